"""Route and campaign maps wait for the visit lists and campaigns they draw (issues in progress)."""

from __future__ import annotations

from fleet.core.errors import FleetError


class NotAvailableYet(FleetError):
    status_code = 501
    code = "not_implemented"


ROUTES = "route maps are not available yet: they come with visit lists and routes (fleet revisits)"
CAMPAIGN = "campaign maps are not available yet: they come with market campaigns"


def routes() -> NotAvailableYet:
    """The error a route map answers with for now."""
    return NotAvailableYet(ROUTES)


def campaign() -> NotAvailableYet:
    """The error a campaign map answers with for now."""
    return NotAvailableYet(CAMPAIGN)
