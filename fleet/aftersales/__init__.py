"""After-sales service (售后): fault tickets on an SLA clock, service staff, spares, vendor
repairs, contractors and their statements, KPIs.

fleet.wiring hands the lower layers this layer's hooks (hooks.py): a visit's "device faulty"
outcome opens a fault ticket here, and units under repair stay off revisit lists and
recovery suggestions.
"""
