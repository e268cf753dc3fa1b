"""The activation cohort of one baseline day, for contracting's clawback (fleet.pay.settlement):
the same rule as the scorecard's (fleet.pay.figures)."""

from fleet.pay.figures import cohort_outcomes

__all__ = ["cohort_outcomes"]
