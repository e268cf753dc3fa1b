"""Utilisation scoring: terminal statuses, peer-group scores and KPIs, from the rollups."""
