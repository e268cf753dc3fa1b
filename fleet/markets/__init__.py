"""Wholesale markets and campaigns: coverage, opportunity ranking, campaigns and prospects.

Campaign prospects reach the revisit lists through `visit_source`, plugged in by fleet.wiring.
"""
