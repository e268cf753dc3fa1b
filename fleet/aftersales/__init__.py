"""After-sales service (售后): fault tickets on an SLA clock, service staff, spares.

Loading this layer makes a visit's "device faulty" outcome open a fault ticket here, and keeps
units under repair off revisit lists and recovery suggestions (hooks.py).
"""

from fleet.aftersales import hooks as _hooks

_hooks.register()
