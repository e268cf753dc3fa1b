"""After-sales service (售后): fault tickets on an SLA clock, service staff, spares.

Loading this layer makes a visit's "device faulty" outcome open a fault ticket here.
"""

from fleet.aftersales import visit_outcomes as _visit_outcomes

_visit_outcomes.register()
