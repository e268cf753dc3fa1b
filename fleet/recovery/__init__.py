"""Recovery (回收) of idle units, with approval, and their redeployment (二次营销).

Loading this layer routes visit outcomes that ask for a recovery into its request queue.
"""

from fleet.recovery import visit_outcomes as _visit_outcomes

_visit_outcomes.register()
