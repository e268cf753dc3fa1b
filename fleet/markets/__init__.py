"""Wholesale markets and campaigns: coverage, opportunity ranking, campaigns and prospects.

Loading this layer puts campaign prospects on the revisit lists (see visit_source).
"""

from fleet.markets import visit_source as _visit_source

_visit_source.register()
