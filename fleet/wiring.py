"""What plugs into what, in one explicit list: the API's routers, the jobs, the revisit
lists' candidate sources and the visit outcomes' handlers.

The app (`fleet.web.app.create_app`), the CLI (its callback), the scheduler and the tests all
call `plug_in()` once at start-up; nothing registers itself on import. A lower layer that
offers a hook (visits.candidates.SOURCES, visits.outcomes.*_HANDLERS) fails loudly when it is
used unwired. A new router, job source, candidate source or outcome handler is added here.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter
from sqlalchemy.engine import Engine

from fleet.aftersales import hooks as aftersales_hooks
from fleet.aftersales import jobs as aftersales_jobs
from fleet.aftersales import views as aftersales_views
from fleet.auth import views as auth_views
from fleet.core.config import Settings
from fleet.core.jobs import Job
from fleet.feeds import jobs as feed_jobs
from fleet.feeds import views as feed_views
from fleet.imports import views as import_views
from fleet.inventory import views as inventory_views
from fleet.jobs import cleanup
from fleet.jobs import views as job_views
from fleet.markets import views as market_views
from fleet.markets import visit_source
from fleet.migrations import load_models
from fleet.pay import contract_views
from fleet.pay import views as pay_views
from fleet.recovery import jobs as recovery_jobs
from fleet.recovery import views as recovery_views
from fleet.recovery import visit_outcomes
from fleet.scoring import jobs as scoring_jobs
from fleet.scoring import views as scoring_views
from fleet.visits import candidates, corrections, outcomes
from fleet.visits import jobs as visit_jobs
from fleet.visits import views as visit_views
from fleet.web import audit

# The JSON API's routers, mounted under /api/v1 in this order.
API_ROUTERS: list[APIRouter] = [
    auth_views.router,
    market_views.router,
    inventory_views.router,
    audit.router,
    import_views.router,
    scoring_views.router,
    feed_views.router,
    recovery_views.router,
    visit_views.router,
    job_views.router,
    aftersales_views.router,
    pay_views.router,
    contract_views.router,
]

# Each gives the jobs of its domain for the settings (one pull per enabled feed source).
JOB_SOURCES: list[Callable[[Settings, Engine], list[Job]]] = [
    feed_jobs.jobs,
    scoring_jobs.jobs,
    visit_jobs.jobs,
    recovery_jobs.jobs,
    aftersales_jobs.jobs,
    cleanup.jobs,
]

# Candidates of later layers on the revisit lists (visits sits below them).
CANDIDATE_SOURCES: list[candidates.CandidateSource] = [visit_source.campaign_visits]
# Visit outcomes that raise a recovery request, and recover visits that collect the unit.
RECOVERY_HANDLERS: list[outcomes.RequestHandler] = [visit_outcomes.request_from_visit]
COLLECTION_HANDLERS: list[outcomes.RecoveryHandler] = [visit_outcomes.collected_on_visit]
# A faulty device at a visit opens an after-sales fault ticket.
REPAIR_HANDLERS: list[outcomes.RecoveryHandler] = [aftersales_hooks.ticket_from_visit]
# Units later layers keep off revisit lists and recovery suggestions (after-sales: under repair).
HOLDS: list[candidates.Hold] = [aftersales_hooks.under_repair]
# A corrected outcome withdraws the recovery request the old one raised.
WITHDRAW_HANDLERS: list[corrections.WithdrawHandler] = [visit_outcomes.withdrawn_with_visit]


def plug_in() -> None:
    """Loads every table model and hands the lower layers their hooks (idempotent)."""
    load_models()
    candidates.SOURCES = list(CANDIDATE_SOURCES)
    outcomes.RECOVERY_HANDLERS[:] = RECOVERY_HANDLERS
    outcomes.COLLECTION_HANDLERS[:] = COLLECTION_HANDLERS
    outcomes.REPAIR_HANDLERS[:] = REPAIR_HANDLERS
    candidates.HOLDS[:] = HOLDS
    corrections.WITHDRAW_HANDLERS[:] = WITHDRAW_HANDLERS


def jobs(engine: Engine, settings: Settings) -> dict[str, Job]:
    """Every job by name, from every job source."""
    found: dict[str, Job] = {}
    for source in JOB_SOURCES:
        for job in source(settings, engine):
            found[job.name] = job
    return found
