"""Revisit lists, field routes and visit outcomes: who to visit, in what order, what happened."""
