"""The demo region (Linyi, Shandong) and its deterministic data generator."""

from fleet.demo.generator import DEMO_LOGINS, DEMO_PASSWORD, generate

__all__ = ["DEMO_LOGINS", "DEMO_PASSWORD", "generate"]
