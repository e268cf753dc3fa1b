"""Wholesale markets and campaigns: coverage, opportunity ranking, campaigns and prospects."""
