"""Recovery (回收) of idle units, with approval, and their redeployment (二次营销).

Visit outcomes that ask for a recovery reach its request queue through `visit_outcomes`,
plugged in by fleet.wiring.
"""
