"""Inventory: branches, merchants, wholesale markets, terminals, their placements and lifecycle."""
