"""fleet: runs a bank's fleet of transfer-phone terminals (转账电话)."""

__version__ = "0.1.0"
