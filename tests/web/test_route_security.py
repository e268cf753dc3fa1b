"""Every route of the app, enumerated and classified: each needs a signed-in caller (except a
short allowlist), refuses roles without its permission (fleet.core.access.PERMISSIONS is the
one source), and never reaches an object of a sibling branch (404, exactly as for a missing
one), while users of the object's parent branch reach it.

A route added to the app without an entry in ROUTES fails test_every_route_is_classified:
classify it here (and so think about who may call it) before it ships.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import jwt
import pytest
from fastapi import FastAPI, routing
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from starlette.routing import Mount

from fleet.core.access import PERMISSIONS, Permission, Role
from fleet.core.config import get_settings
from fleet.core.db import utcnow
from fleet.web.app import create_app
from tests.web import world as twin
from tests.web.world import World

P = Permission
Side = str
Build = Callable[[World, Side], dict[str, Any]]

# Open by design: probes of load balancers (no token), the API docs, and sign-in itself.
OPEN = "open"
# /metrics: an admin's token or FLEET_METRICS_TOKEN (tests/ops/test_observability.py).
METRICS = "metrics"
SIGNED_IN = "signed_in"
# Server-rendered pages (fleet.pages): a session cookie, not a bearer token. Without one, a page
# sends the caller to /login and a form post is refused; their roles and scopes are the API's
# service functions' (tests/pages checks the pages themselves).
PAGE = "page"
# Static files of the maps (Leaflet and fleet's own script) and of the pages: code, no data.
OPEN_MOUNTS = {"/static/vendor", "/static/maps", "/pages/static"}


@dataclass(frozen=True)
class Rule:
    """How a route is guarded.

    permission: what the caller's role needs (None: any signed-in user).
    scope: "branch" takes an object of a branch (in the path, query or body): 404 for users
    outside its subtree; "own": a personal object, only its owner reaches it; "" none.
    """

    access: str = SIGNED_IN
    permission: Permission | None = None
    scope: str = ""
    params: Build | None = None
    query: Build | None = None
    body: Build | None = None
    upload: Callable[[World, Side], tuple[str, bytes]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def ids(w: World, s: Side, name: str) -> Any:
    return w.ids[s][name]


def day(w: World, s: Side) -> dict[str, Any]:
    return {"branch_code": ids(w, s, "branch_code"), "date": w.today.isoformat()}


def csv_file(text: str) -> Callable[[World, Side], tuple[str, bytes]]:
    return lambda w, s: ("upload.csv", text.format(o=ids(w, s, "branch_code")).encode())


FEED = (
    "txn_ref,terminal_sn,occurred_at,amount,txn_type,status,merchant_code\n"
    "N1,SN{o},2026-05-01T10:00:00,1.00,transfer,success,C{o}\n"
)
MERCHANT_ROWS = "code,name,branch_code\nNEW{o},新商户,{o}\n"
CAMPAIGN = "/api/v1/campaigns/{campaign_id}"

ROUTES: dict[tuple[str, str], Rule] = {
    # --- open and special
    ("GET", "/healthz"): Rule(OPEN),
    ("GET", "/readyz"): Rule(OPEN),
    ("GET", "/docs"): Rule(OPEN),
    ("GET", "/docs/oauth2-redirect"): Rule(OPEN),
    ("GET", "/redoc"): Rule(OPEN),
    ("GET", "/openapi.json"): Rule(OPEN),
    ("POST", "/api/v1/auth/token"): Rule(OPEN),
    ("GET", "/metrics"): Rule(METRICS),
    # --- the caller's own account
    ("GET", "/api/v1/auth/me"): Rule(),
    ("POST", "/api/v1/auth/logout"): Rule(),
    ("POST", "/api/v1/auth/logout-all"): Rule(),
    ("POST", "/api/v1/auth/api-tokens"): Rule(body=lambda w, s: {"name": "script"}),
    ("GET", "/api/v1/auth/api-tokens"): Rule(),
    ("DELETE", "/api/v1/auth/api-tokens/{token_id}"): Rule(scope="own"),
    # --- users
    ("GET", "/api/v1/users"): Rule(permission=P.read_users),
    ("POST", "/api/v1/users"): Rule(
        permission=P.write_users,
        scope="branch",
        body=lambda w, s: {
            "username": f"new_{s}",
            "role": "field",
            "branch_code": ids(w, s, "branch_code"),
        },
    ),
    ("GET", "/api/v1/users/{user_id}"): Rule(permission=P.read_users, scope="branch"),
    ("PATCH", "/api/v1/users/{user_id}"): Rule(
        permission=P.write_users, scope="branch", body=lambda w, s: {"full_name": "X"}
    ),
    # --- branches, markets, merchants, terminals
    ("GET", "/api/v1/branches"): Rule(permission=P.read_inventory),
    ("POST", "/api/v1/branches"): Rule(
        permission=P.write_branches,
        scope="branch",
        body=lambda w, s: {"code": f"N{s}", "name": "新", "parent_code": ids(w, s, "branch_code")},
    ),
    ("GET", "/api/v1/branches/{branch_id}"): Rule(permission=P.read_inventory, scope="branch"),
    ("PATCH", "/api/v1/branches/{branch_id}"): Rule(
        permission=P.write_branches, scope="branch", body=lambda w, s: {"name": "改"}
    ),
    ("GET", "/api/v1/markets"): Rule(permission=P.read_inventory),
    ("POST", "/api/v1/markets"): Rule(
        permission=P.write_markets,
        scope="branch",
        body=lambda w, s: {
            "code": f"NM{s}",
            "name": "新市场",
            "category": "hardware",
            "lat": 35.2,
            "lng": 118.2,
            "radius_m": 300,
            "branch_code": ids(w, s, "branch_code"),
        },
    ),
    ("GET", "/api/v1/markets/{market_id}"): Rule(permission=P.read_inventory, scope="branch"),
    ("PATCH", "/api/v1/markets/{market_id}"): Rule(
        permission=P.write_markets, scope="branch", body=lambda w, s: {"name": "改"}
    ),
    ("GET", "/api/v1/markets/ranking"): Rule(
        permission=P.read_inventory, query=lambda w, s: {"branch_id": ids(w, s, "branch_id")}
    ),
    ("GET", "/api/v1/markets/coverage"): Rule(
        permission=P.read_inventory, query=lambda w, s: {"branch_id": ids(w, s, "branch_id")}
    ),
    ("GET", "/api/v1/markets/{market_id}/coverage"): Rule(
        permission=P.read_inventory, scope="branch"
    ),
    ("GET", "/api/v1/merchants"): Rule(permission=P.read_inventory),
    ("POST", "/api/v1/merchants"): Rule(
        permission=P.write_inventory,
        scope="branch",
        body=lambda w, s: {"code": f"NC{s}", "name": "新", "branch_code": ids(w, s, "branch_code")},
    ),
    ("GET", "/api/v1/merchants/{merchant_id}"): Rule(permission=P.read_inventory, scope="branch"),
    ("PATCH", "/api/v1/merchants/{merchant_id}"): Rule(
        permission=P.write_inventory, scope="branch", body=lambda w, s: {"name": "改"}
    ),
    ("GET", "/api/v1/terminals"): Rule(permission=P.read_inventory),
    ("POST", "/api/v1/terminals"): Rule(
        permission=P.write_inventory,
        scope="branch",
        body=lambda w, s: {"sn": f"NEW{s}", "branch_code": ids(w, s, "branch_code")},
    ),
    ("GET", "/api/v1/terminals/{terminal_id}"): Rule(permission=P.read_inventory, scope="branch"),
    ("PATCH", "/api/v1/terminals/{terminal_id}"): Rule(
        permission=P.write_inventory, scope="branch", body=lambda w, s: {"model": "T200"}
    ),
    ("POST", "/api/v1/terminals/{terminal_id}/transitions"): Rule(
        permission=P.change_lifecycle,
        scope="branch",
        params=lambda w, s: {"terminal_id": ids(w, s, "su_id")},
        body=lambda w, s: {"to_state": "faulty", "reason": "broken"},
    ),
    ("GET", "/api/v1/terminals/{terminal_id}/placements"): Rule(
        permission=P.read_inventory, scope="branch"
    ),
    ("GET", "/api/v1/terminals/{terminal_id}/events"): Rule(
        permission=P.read_inventory, scope="branch"
    ),
    ("GET", "/api/v1/terminals/{terminal_id}/scores"): Rule(
        permission=P.read_inventory, scope="branch"
    ),
    # --- audit, import and export
    ("GET", "/api/v1/audit"): Rule(permission=P.read_audit),
    ("POST", "/api/v1/imports/{kind}"): Rule(
        permission=P.import_data, upload=csv_file(MERCHANT_ROWS)
    ),
    ("GET", "/api/v1/exports/{kind}"): Rule(permission=P.read_inventory),
    # --- utilisation
    ("GET", "/api/v1/scores"): Rule(
        permission=P.read_inventory, query=lambda w, s: {"branch_id": ids(w, s, "branch_id")}
    ),
    ("GET", "/api/v1/kpi"): Rule(
        permission=P.read_inventory, query=lambda w, s: {"branch_id": ids(w, s, "branch_id")}
    ),
    ("POST", "/api/v1/scores/run"): Rule(permission=P.import_data),
    # --- feeds
    ("POST", "/api/v1/ingests"): Rule(permission=P.import_data, upload=csv_file(FEED)),
    ("GET", "/api/v1/ingests"): Rule(permission=P.import_data),
    ("GET", "/api/v1/ingests/{run_id}"): Rule(permission=P.import_data, scope="branch"),
    ("GET", "/api/v1/ingests/{run_id}/rejects"): Rule(permission=P.import_data, scope="branch"),
    ("GET", "/api/v1/feed-sources"): Rule(permission=P.import_data),
    ("POST", "/api/v1/feed-sources"): Rule(
        permission=P.write_branches,
        body=lambda w, s: {"name": f"new {s}", "url": "http://127.0.0.1:9/x"},
    ),
    ("GET", "/api/v1/feed-sources/{source_id}"): Rule(permission=P.import_data),
    ("PATCH", "/api/v1/feed-sources/{source_id}"): Rule(
        permission=P.write_branches, body=lambda w, s: {"enabled": False}
    ),
    ("DELETE", "/api/v1/feed-sources/{source_id}"): Rule(permission=P.write_branches),
    ("POST", "/api/v1/feed-sources/{source_id}/pull"): Rule(permission=P.import_data),
    ("GET", "/api/v1/data-coverage"): Rule(permission=P.import_data),
    ("PUT", "/api/v1/data-coverage/{source}"): Rule(
        permission=P.write_branches, body=lambda w, s: {"starts_on": "2026-01-01"}
    ),
    ("DELETE", "/api/v1/data-coverage/{source}"): Rule(permission=P.write_branches),
    # --- markets: campaigns and prospects
    ("GET", "/api/v1/campaigns"): Rule(permission=P.read_campaigns),
    ("POST", "/api/v1/campaigns"): Rule(
        permission=P.plan_campaigns,
        scope="branch",
        body=lambda w, s: {
            "name": "新活动",
            "market_code": ids(w, s, "market_code"),
            "starts_on": w.today.isoformat(),
            "ends_on": (w.today + timedelta(days=9)).isoformat(),
        },
    ),
    ("GET", "/api/v1/campaigns/candidates"): Rule(
        permission=P.read_campaigns, query=lambda w, s: {"day": w.today.isoformat()}
    ),
    ("GET", CAMPAIGN): Rule(permission=P.read_campaigns, scope="branch"),
    ("PATCH", CAMPAIGN): Rule(
        permission=P.plan_campaigns, scope="branch", body=lambda w, s: {"notes": "x"}
    ),
    ("DELETE", CAMPAIGN): Rule(permission=P.plan_campaigns, scope="branch"),
    ("PUT", CAMPAIGN + "/staff"): Rule(
        permission=P.plan_campaigns,
        scope="branch",
        body=lambda w, s: {"usernames": [f"staff_{s.lower()}1"]},
    ),
    ("POST", CAMPAIGN + "/units"): Rule(
        permission=P.plan_campaigns, scope="branch", body=lambda w, s: {"sns": []}
    ),
    ("DELETE", CAMPAIGN + "/units/{sn}"): Rule(permission=P.plan_campaigns, scope="branch"),
    ("GET", CAMPAIGN + "/prospects"): Rule(permission=P.read_campaigns, scope="branch"),
    ("POST", CAMPAIGN + "/prospects"): Rule(
        permission=P.plan_campaigns, scope="branch", body=lambda w, s: {"merchant_codes": []}
    ),
    ("POST", CAMPAIGN + "/prospects/import"): Rule(
        permission=P.plan_campaigns, scope="branch", upload=csv_file(MERCHANT_ROWS)
    ),
    ("PATCH", CAMPAIGN + "/prospects/{merchant_id}"): Rule(
        permission=P.plan_campaigns,  # or a staff member of the campaign
        scope="branch",
        params=lambda w, s: {"merchant_id": ids(w, s, "prospect_id")},
        body=lambda w, s: {"status": "visited"},
    ),
    ("POST", CAMPAIGN + "/placements"): Rule(
        permission=P.plan_campaigns,  # or a staff member of the campaign
        scope="branch",
        body=lambda w, s: {"sn": ids(w, s, "st_sn"), "merchant_code": ids(w, s, "prospect_code")},
    ),
    ("GET", CAMPAIGN + "/report"): Rule(permission=P.read_campaigns, scope="branch"),
    ("GET", CAMPAIGN + "/export"): Rule(permission=P.read_campaigns, scope="branch"),
    ("POST", "/api/v1/prospects/import"): Rule(
        permission=P.import_prospects, upload=csv_file(MERCHANT_ROWS)
    ),
    ("GET", "/api/v1/prospects"): Rule(permission=P.read_inventory),
    # --- recovery and redeployment
    ("GET", "/api/v1/recovery/suggestions"): Rule(
        permission=P.read_inventory, query=lambda w, s: {"branch_id": ids(w, s, "branch_id")}
    ),
    ("POST", "/api/v1/recovery/suggestions/raise"): Rule(permission=P.request_recovery),
    ("GET", "/api/v1/recovery/requests"): Rule(
        permission=P.read_inventory,
        query=lambda w, s: {"branch_id": ids(w, s, "branch_id"), "all_statuses": True},
    ),
    ("POST", "/api/v1/recovery/requests"): Rule(
        permission=P.request_recovery,
        scope="branch",
        body=lambda w, s: {"terminal_id": ids(w, s, "terminal_id"), "reason": "idle"},
    ),
    ("GET", "/api/v1/recovery/requests/{request_id}"): Rule(
        permission=P.read_inventory, scope="branch"
    ),
    ("POST", "/api/v1/recovery/requests/{request_id}/decision"): Rule(
        permission=P.decide_recovery, scope="branch", body=lambda w, s: {"decision": "approve"}
    ),
    ("POST", "/api/v1/recovery/requests/{request_id}/complete"): Rule(
        permission=P.request_recovery, scope="branch", body=lambda w, s: {"condition": "ok"}
    ),
    ("GET", "/api/v1/recovery/rules"): Rule(
        permission=P.read_inventory,
        scope="branch",
        query=lambda w, s: {"branch_id": ids(w, s, "branch_id")},
    ),
    ("PUT", "/api/v1/recovery/rules/{branch_id}/{rule}"): Rule(
        permission=P.change_lifecycle,
        scope="branch",
        body=lambda w, s: {"params": {}},
    ),
    ("GET", "/api/v1/recovery/kpi"): Rule(
        permission=P.read_inventory, query=lambda w, s: {"branch_id": ids(w, s, "branch_id")}
    ),
    ("GET", "/api/v1/recovery/second-marketing"): Rule(
        permission=P.read_inventory, query=lambda w, s: {"branch_id": ids(w, s, "branch_id")}
    ),
    ("GET", "/api/v1/redeploy/suggestions"): Rule(
        permission=P.read_inventory, query=lambda w, s: {"branch_id": ids(w, s, "branch_id")}
    ),
    ("POST", "/api/v1/redeploy/{terminal_id}/place"): Rule(
        permission=P.change_lifecycle,
        scope="branch",
        params=lambda w, s: {"terminal_id": ids(w, s, "su_id")},
        body=lambda w, s: {"merchant_code": ids(w, s, "prospect_code")},
    ),
    ("POST", "/api/v1/recovery/sweep"): Rule(permission=P.run_jobs),
    # --- visits
    ("POST", "/api/v1/revisits/plan"): Rule(
        permission=P.plan_visits, scope="branch", body=lambda w, s: {**day(w, s), "seconds": 0.2}
    ),
    ("GET", "/api/v1/revisits"): Rule(permission=P.read_visits, scope="branch", query=day),
    ("GET", "/api/v1/revisits/export"): Rule(permission=P.read_visits, scope="branch", query=day),
    ("GET", "/api/v1/visits/mine"): Rule(),
    ("GET", "/api/v1/visits/attribution"): Rule(
        permission=P.read_inventory,
        scope="branch",
        query=lambda w, s: {
            "branch_code": ids(w, s, "branch_code"),
            "date_from": w.today.isoformat(),
            "date_to": w.today.isoformat(),
        },
    ),
    ("GET", "/api/v1/visits/{visit_id}"): Rule(permission=P.read_visits, scope="branch"),
    ("POST", "/api/v1/visits/{visit_id}/outcome"): Rule(
        permission=P.read_visits, scope="branch", body=lambda w, s: {"outcome": "no_need"}
    ),
    # To the stop's own officer (the world's plan has one): 422 for those who may, 404 for the
    # sibling county's operations.
    ("POST", "/api/v1/visits/{visit_id}/move"): Rule(
        permission=P.plan_visits,
        scope="branch",
        body=lambda w, s: {"to_staff_id": ids(w, s, "user_id")},
    ),
    ("POST", "/api/v1/visits/{visit_id}/correction"): Rule(
        permission=P.read_visits, scope="branch", body=lambda w, s: {"outcome": "moved"}
    ),
    ("GET", "/api/v1/repair-tickets"): Rule(permission=P.read_visits),
    # --- jobs
    ("GET", "/api/v1/jobs/runs"): Rule(permission=P.run_jobs),
    # --- after-sales: fault tickets (service staff: theirs and their branch's open pool)
    ("GET", "/api/v1/tickets"): Rule(permission=P.read_tickets),
    ("POST", "/api/v1/tickets"): Rule(
        permission=P.work_tickets,
        scope="branch",
        body=lambda w, s: {"sn": ids(w, s, "sg_sn"), "symptom": "power"},
    ),
    ("GET", "/api/v1/tickets/{ticket_id}"): Rule(permission=P.read_tickets, scope="branch"),
    ("POST", "/api/v1/tickets/{ticket_id}/assign"): Rule(
        permission=P.work_tickets, scope="branch", body=lambda w, s: {}
    ),
    ("POST", "/api/v1/tickets/{ticket_id}/arrive"): Rule(
        permission=P.work_tickets, scope="branch", body=lambda w, s: {}
    ),
    ("POST", "/api/v1/tickets/{ticket_id}/pause"): Rule(
        permission=P.work_tickets, scope="branch", body=lambda w, s: {"reason": "parts"}
    ),
    ("POST", "/api/v1/tickets/{ticket_id}/resume"): Rule(
        permission=P.work_tickets, scope="branch", body=lambda w, s: {}
    ),
    ("POST", "/api/v1/tickets/{ticket_id}/restore"): Rule(
        permission=P.work_tickets,
        scope="branch",
        body=lambda w, s: {"resolution": "no_fault_found"},
    ),
    ("POST", "/api/v1/tickets/{ticket_id}/close"): Rule(
        permission=P.dispatch_tickets, scope="branch", body=lambda w, s: {}
    ),
    ("POST", "/api/v1/tickets/{ticket_id}/cancel"): Rule(
        permission=P.dispatch_tickets, scope="branch", body=lambda w, s: {}
    ),
    ("POST", "/api/v1/tickets/{ticket_id}/confirm"): Rule(
        permission=P.dispatch_tickets, scope="branch", body=lambda w, s: {}
    ),
    ("POST", "/api/v1/tickets/suspect"): Rule(permission=P.dispatch_tickets),
    # --- after-sales: spares, vendor repairs, contractors, statements, KPIs (operations)
    ("GET", "/api/v1/service/spares"): Rule(
        permission=P.dispatch_tickets,
        scope="branch",
        query=lambda w, s: {"branch_id": ids(w, s, "branch_id")},
    ),
    ("POST", "/api/v1/service/spares"): Rule(
        permission=P.dispatch_tickets,
        scope="branch",
        body=lambda w, s: {"sn": ids(w, s, "su_sn")},
    ),
    ("POST", "/api/v1/service/vendor-repairs"): Rule(
        permission=P.dispatch_tickets,
        scope="branch",
        body=lambda w, s: {"sn": ids(w, s, "sf_sn"), "vendor": "厂家"},
    ),
    ("POST", "/api/v1/service/vendor-repairs/{repair_id}/back"): Rule(
        permission=P.dispatch_tickets, scope="branch", body=lambda w, s: {"outcome": "in_stock"}
    ),
    ("GET", "/api/v1/service/contractors"): Rule(permission=P.dispatch_tickets),
    ("POST", "/api/v1/service/contractors"): Rule(
        permission=P.manage_contractors, body=lambda w, s: {"code": f"N{s}", "name": "新"}
    ),
    ("PUT", "/api/v1/service/contractors/{code}"): Rule(
        permission=P.manage_contractors,
        params=lambda w, s: {"code": ids(w, s, "contractor_code")},
        body=lambda w, s: {"name": "新名", "branch_codes": [ids(w, s, "branch_code")]},
    ),
    ("POST", "/api/v1/service/contractors/{code}/terms"): Rule(
        permission=P.manage_contractors,
        params=lambda w, s: {"code": ids(w, s, "contractor_code")},
        body=lambda w, s: {"from_month": f"{w.today.year + 1}-01", "fee_per_ticket": 30},
    ),
    ("GET", "/api/v1/service/contractors/{code}/statement"): Rule(
        permission=P.dispatch_tickets,
        scope="branch",
        params=lambda w, s: {"code": ids(w, s, "contractor_code")},
        query=lambda w, s: {"month": w.today.strftime("%Y-%m")},
    ),
    ("GET", "/api/v1/service/contractors/{code}/statement.xlsx"): Rule(
        permission=P.dispatch_tickets,
        scope="branch",
        params=lambda w, s: {"code": ids(w, s, "contractor_code")},
        query=lambda w, s: {"month": w.today.strftime("%Y-%m")},
    ),
    ("POST", "/api/v1/service/contractors/{code}/statement/sign-off"): Rule(
        permission=P.dispatch_tickets,
        scope="branch",
        params=lambda w, s: {"code": ids(w, s, "contractor_code")},
        query=lambda w, s: {"month": f"{w.today.year - 1}-01"},
    ),
    ("POST", "/api/v1/service/plan"): Rule(
        permission=P.dispatch_tickets,
        scope="branch",
        body=lambda w, s: {**day(w, s), "seconds": 0.2},
    ),
    ("GET", "/api/v1/service/plan"): Rule(permission=P.dispatch_tickets, scope="branch", query=day),
    ("GET", "/api/v1/service/my-day"): Rule(permission=P.read_tickets),
    ("GET", "/api/v1/service/kpi"): Rule(
        permission=P.dispatch_tickets,
        scope="branch",
        query=lambda w, s: {"branch_id": ids(w, s, "branch_id")},
    ),
    # --- pay: the fee schedule (admins set it; roles that may see pay read it)
    ("GET", "/api/v1/fees/schedule"): Rule(permission=P.read_pay),
    ("PUT", "/api/v1/fees/schedule"): Rule(permission=P.write_fees, body=lambda w, s: []),
    ("PUT", "/api/v1/fees/merchants/{code}/class"): Rule(
        permission=P.write_fees,
        params=lambda w, s: {"code": ids(w, s, "prospect_code")},
        body=lambda w, s: {"merchant_class": "preferential"},
    ),
    ("POST", "/api/v1/fees/rebuild"): Rule(permission=P.write_fees),
    # Any signed-in user: staff get their own line only (tests/pay/test_scorecard.py).
    ("GET", "/api/v1/scorecard"): Rule(
        scope="branch",
        query=lambda w, s: {"period": "2026-11", "branch_id": ids(w, s, "branch_id")},
    ),
    ("PUT", "/api/v1/scorecard/plan"): Rule(
        permission=P.approve_scorecard,
        scope="branch",
        body=lambda w, s: {"period": "2026-11", "branch_code": ids(w, s, "branch_code")},
    ),
    ("GET", "/api/v1/scorecard/weights"): Rule(permission=P.read_pay),
    ("PUT", "/api/v1/scorecard/weights/{role}"): Rule(
        permission=P.set_scorecard_weights,
        params=lambda w, s: {"role": "field"},
        body=lambda w, s: {"activation": 30},
    ),
    ("POST", "/api/v1/scorecard/rates"): Rule(
        permission=P.approve_scorecard, upload=csv_file("工号,期间,ATM分流率\n")
    ),
    ("GET", "/api/v1/revenue"): Rule(
        permission=P.read_pay,
        scope="branch",
        query=lambda w, s: {
            "period": "2026-11",
            "by": "branch",
            "branch_id": ids(w, s, "branch_id"),
        },
    ),
    # --- pay: contracts (承包). Operations draft, approve and settle those of their subtree;
    # anyone signed in reads the contracts they hold (others: 404); statements are money.
    ("GET", "/api/v1/contracts"): Rule(),
    ("POST", "/api/v1/contracts"): Rule(
        permission=P.manage_contracts,
        scope="branch",
        body=lambda w, s: {
            "name": f"New {s}",
            "members": [f"staff_{s.lower()}1"],
            "portfolio_kind": "merchants",
            "merchant_codes": [f"C{s}1"],
            "period": f"{w.today.year + 3}-01",
            "commission_ppm": 50_000,
        },
    ),
    ("GET", "/api/v1/contracts/{contract_id}"): Rule(scope="branch"),
    ("PATCH", "/api/v1/contracts/{contract_id}"): Rule(
        permission=P.manage_contracts, scope="branch", body=lambda w, s: {"name": "X"}
    ),
    ("POST", "/api/v1/contracts/{contract_id}/approve"): Rule(
        permission=P.manage_contracts, scope="branch"
    ),
    ("POST", "/api/v1/contracts/{contract_id}/settle"): Rule(
        permission=P.manage_contracts, scope="branch"
    ),
    ("GET", "/api/v1/contracts/{contract_id}/statement"): Rule(
        permission=P.read_pay, scope="branch"
    ),
    ("GET", "/api/v1/contracts/{contract_id}/statement.xlsx"): Rule(
        permission=P.read_pay, scope="branch"
    ),
    ("GET", "/api/v1/contracts/{contract_id}/progress"): Rule(scope="branch"),
    # --- maps
    ("GET", "/maps/coverage"): Rule(
        permission=P.read_inventory,
        scope="branch",
        query=lambda w, s: {"branch": ids(w, s, "branch_code")},
    ),
    ("GET", "/maps/routes"): Rule(permission=P.read_visits, scope="branch", query=day),
    ("GET", "/maps/campaign/{campaign_id}"): Rule(permission=P.read_campaigns, scope="branch"),
}

PAGES = """
GET / | GET /admin/branches | GET /admin/branches/new | GET /admin/branches/{branch_id}
GET /admin/feeds | GET /admin/feeds/new | GET /admin/feeds/{source_id} | GET /admin/settings
GET /admin/users | GET /admin/users/new | GET /admin/users/{user_id} | GET /field/flags
GET /field/today | GET /field/visits/{visit_id} | GET /marketing/campaigns
GET /marketing/campaigns/new | GET /marketing/campaigns/{campaign_id}
GET /marketing/campaigns/{campaign_id}/report.xlsx | GET /marketing/markets
GET /marketing/markets/{market_id} | GET /ops | GET /ops/ingests | GET /ops/ingests/{run_id}
GET /ops/ingests/{run_id}/rejects.csv | GET /ops/merchants/{merchant_id} | GET /ops/plans
GET /ops/recovery | GET /ops/recovery/{request_id} | GET /ops/search
GET /ops/terminals/{terminal_id} | POST /admin/branches/new | POST /admin/branches/{branch_id}
POST /admin/feeds/new | POST /admin/feeds/{source_id} | POST /admin/feeds/{source_id}/enabled
POST /admin/feeds/{source_id}/pull | POST /admin/settings/rules/{branch_code}/{rule}
POST /admin/settings/rules/{branch_code}/{rule}/clear | POST /admin/settings/scoring/{key}
POST /admin/settings/coverage/{source} | POST /admin/settings/coverage/{source}/clear
POST /admin/settings/scoring/{key}/reset | POST /admin/users/new | POST /admin/users/{user_id}
POST /admin/users/{user_id}/logout-all | POST /field/visits/{visit_id}/outcome
POST /field/visits/{visit_id}/correction
POST /marketing/campaigns/new | POST /ops/recovery/{request_id}/decision | POST /logout
POST /settings/language
GET /service/today | GET /service/tickets/{ticket_id} | POST /service/tickets/{ticket_id}/take
POST /service/tickets/{ticket_id}/arrive | POST /service/tickets/{ticket_id}/pause
POST /service/tickets/{ticket_id}/resume | POST /service/tickets/{ticket_id}/restore
GET /ops/tickets | GET /ops/tickets/{ticket_id} | POST /ops/tickets/new
POST /ops/tickets/{ticket_id}/assign | POST /ops/tickets/{ticket_id}/confirm
POST /ops/tickets/{ticket_id}/dismiss | POST /ops/tickets/{ticket_id}/close
POST /ops/tickets/{ticket_id}/cancel
GET /ops/imports | POST /ops/imports | GET /ops/imports/{token} | POST /ops/imports/{token}/confirm
GET /ops/imports/{token}/rejects.xlsx
GET /ops/spares | POST /ops/spares | GET /ops/service-kpi | GET /ops/statements
POST /ops/plans/replan | POST /ops/plans/move | GET /ops/plans/print
GET /admin/contractors | POST /admin/contractors | GET /admin/sla
GET /ops/vendor-repairs | POST /ops/vendor-repairs/{repair_id}/back
"""
for _method, _path in re.findall(r"(GET|POST) (\S+)", PAGES):
    ROUTES[(_method, _path)] = Rule(PAGE)
ROUTES[("GET", "/login")] = Rule(OPEN)
# The merchant's QR page: no account; an unguessable code opens only the shop's name and a
# fault form (tests/pages/test_qr.py: forged and old codes, rate limits, no contacts).
_STATEMENT = Rule(
    PAGE, params=lambda w, s: {"code": ids(w, s, "contractor_code"), "month": "2026-11"}
)
ROUTES[("GET", "/ops/statements/{code}/{month}.xlsx")] = _STATEMENT
ROUTES[("POST", "/ops/statements/{code}/{month}/sign-off")] = _STATEMENT
_CONTRACTOR = Rule(PAGE, params=lambda w, s: {"code": ids(w, s, "contractor_code")})
for _key in (
    ("GET", "/admin/contractors/{code}"),
    ("POST", "/admin/contractors/{code}"),
    ("POST", "/admin/contractors/{code}/terms"),
):
    ROUTES[_key] = _CONTRACTOR
ROUTES[("POST", "/admin/sla/{area}/{priority}")] = Rule(
    PAGE, params=lambda w, s: {"area": "town", "priority": "normal"}
)
_QR = Rule(OPEN, params=lambda w, s: {"token": ids(w, s, "qr_token")})
for _key in (("GET", "/qr/{token}"), ("POST", "/qr/{token}"), ("GET", "/qr/{token}/sent")):
    ROUTES[_key] = _QR
ROUTES[("POST", "/login")] = Rule(OPEN)
# Contracts' pages (承包): operations' list, draft, approve, settle, download; staff's own.
CONTRACT_PAGES = """
GET /ops/contracts | POST /ops/contracts/new | GET /ops/contracts/{contract_id}
POST /ops/contracts/{contract_id}/approve | POST /ops/contracts/{contract_id}/settle
GET /ops/contracts/{contract_id}/statement.xlsx | GET /field/contracts
"""
for _method, _path in re.findall(r"(GET|POST) (\S+)", CONTRACT_PAGES):
    ROUTES[(_method, _path)] = Rule(PAGE)
# The 五提升 scorecard's pages: operations' league table and workbook; staff's own card.
for _key in (
    ("GET", "/ops/scorecard"),
    ("GET", "/ops/scorecard.xlsx"),
    ("GET", "/field/scorecard"),
    ("GET", "/admin/scorecard-weights"),
):
    ROUTES[_key] = Rule(PAGE)
ROUTES[("POST", "/admin/scorecard-weights/{role}")] = Rule(
    PAGE, params=lambda w, s: {"role": "field"}
)
# Scorecard plans for operations: drafted and approved on the page (fleet.pay.plans).
ROUTES[("GET", "/ops/scorecard/plans")] = Rule(PAGE)
ROUTES[("POST", "/ops/scorecard/plans")] = Rule(PAGE)
ROUTES[("POST", "/ops/scorecard/plans/{plan_id}/approve")] = Rule(
    PAGE, params=lambda w, s: {"plan_id": 1}
)

# What the sibling branch's objects look like in any answer: none may show up outside B.
B_MARKERS = (
    "SNB1", "CB1", "PB1", "STB1", "SUB1", "MKB1", "Camp B", "staff_b1", "feed-B", "SFB1", "SGB1",
    "SRB1", "CTB1", "Vendor B", "Contract B",
)  # fmt: skip
SCOPED_ROLES = (Role.branch_ops, Role.marketing, Role.field, Role.service)
USER = {
    Role.branch_ops: "ops",
    Role.marketing: "marketing",
    Role.field: "field",
    Role.service: "service",
}


def app_routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, path) of every route the app serves, through included routers."""
    contexts = getattr(routing, "iter_route_contexts", None)
    found = list(contexts(app.routes)) if contexts else app.routes
    for route in found:
        if isinstance(getattr(route, "original_route", route), Mount):
            yield "MOUNT", route.path
            continue
        for method in sorted(set(route.methods or ()) - {"HEAD"}):
            yield method, route.path


def request(
    client: TestClient,
    w: World,
    key: tuple[str, str],
    side: Side,
    headers: dict[str, str] | None = None,
) -> Any:
    method, rule = key[0], ROUTES[key]
    kwargs: dict[str, Any] = {"headers": headers or {}}
    if rule.query:
        kwargs["params"] = rule.query(w, side)
    if rule.body:
        kwargs["json"] = rule.body(w, side)
    if rule.upload:
        kwargs["files"] = {"file": rule.upload(w, side)}
    return client.request(method, request_path(w, key, side), **kwargs)


def request_path(w: World, key: tuple[str, str], side: Side) -> str:
    """The route's path with the ids of `side`'s objects filled in."""
    template, rule = key[1], ROUTES[key]
    values: dict[str, Any] = {
        **w.ids[side],
        "kind": "merchants",
        "sn": w.ids[side]["st_sn"],
        "rule": "dormant_revisited",
        "source_id": w.source_id,
        "source": "default",  # a data coverage source
        "key": "window_days",
        "token": "no-such-upload",  # a staged import (pages): unknown or another's is a 404
    }
    if rule.params:
        values.update(rule.params(w, side))
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), template)


def holders(permission: Permission | None) -> list[Role]:
    return [r for r in SCOPED_ROLES if permission is None or permission in PERMISSIONS[r]]


@pytest.fixture
def w(engine: Engine) -> World:
    return twin.build(engine)


def test_every_route_is_classified() -> None:
    served = set(app_routes(create_app()))
    mounts = {path for method, path in served if method == "MOUNT"}
    routes = {r for r in served if r[0] != "MOUNT"}
    assert mounts == OPEN_MOUNTS, "classify the new static mount in OPEN_MOUNTS"
    assert routes - ROUTES.keys() == set(), "new routes: add each to ROUTES with its guard"
    assert ROUTES.keys() - routes == set(), "ROUTES names routes the app no longer serves"
    assert len(routes) >= 95


def test_every_route_but_the_open_ones_needs_a_valid_token(client: TestClient, w: World) -> None:
    expired = jwt.encode(
        {"sub": str(w.user_ids["admin"]), "ver": 0, "exp": utcnow() - timedelta(minutes=1)},
        get_settings().secret_key,
        algorithm="HS256",
    )
    forged = jwt.encode(
        {"sub": str(w.user_ids["admin"]), "ver": 0, "exp": utcnow() + timedelta(minutes=5)},
        "not-the-secret-key-but-as-long-as-a-real-one",
        algorithm="HS256",
    )
    bad = [{}, {"Authorization": "Bearer garbage"}, {"Authorization": "Bearer flt_garbage"}]
    bad += [{"Authorization": f"Bearer {token}"} for token in (expired, forged)]
    wrong = []
    for key, rule in ROUTES.items():
        if rule.access == PAGE:
            answer = client.request(key[0], request_path(w, key, "A"), follow_redirects=False)
            to_login = answer.status_code == 303 and answer.headers["location"].startswith("/login")
            if not (to_login or answer.status_code in (401, 403)):
                wrong.append((key, "no session", answer.status_code))
            continue
        if rule.access == OPEN:
            continue
        for headers in bad:
            answer = request(client, w, key, "A", headers)
            if answer.status_code != 401:
                wrong.append((key, headers.get("Authorization", "-")[:20], answer.status_code))
    assert wrong == []
    # The allowlist answers without a token.
    for key, rule in ROUTES.items():
        if rule.access == OPEN and key[0] == "GET":
            assert request(client, w, key, "A").status_code == 200, key


def test_roles_without_the_permission_are_refused(client: TestClient, w: World) -> None:
    """Each role missing a route's permission gets 403 on its own branch's objects; a role
    that holds it is never refused for its role (GET only here: writes would change the world
    under the other checks; test_parent_branch_reaches_the_object does those)."""
    wrong = []
    checked = 0
    for key, rule in ROUTES.items():
        if rule.access != SIGNED_IN or rule.permission is None:
            continue
        for role in SCOPED_ROLES:
            has = rule.permission in PERMISSIONS[role]
            if has and key[0] != "GET":
                continue
            answer = request(client, w, key, "A", w.token(f"{USER[role]}_a"))
            # A campaign's staff run it without the permission: to others it answers 404, as
            # a missing one does, so that no answer tells which campaigns exist (issue 14).
            hidden = answer.status_code == 404 and "{campaign_id}" in key[1]
            if (answer.status_code == 403 or hidden) != (not has):
                wrong.append((key, role.value, answer.status_code, answer.text[:120]))
            checked += 1
    assert wrong == []
    assert checked > 100


def test_a_sibling_branch_never_reaches_an_object(client: TestClient, w: World) -> None:
    """County A's users ask for outlet B1's objects: 404 (never 200, nor a 403 that would
    tell the object exists); lists filtered to B's branch show nothing of B."""
    wrong, checked = [], 0
    for key, rule in ROUTES.items():
        if rule.access != SIGNED_IN:
            continue
        if not rule.scope and key[0] != "GET":
            continue  # takes no object: nothing to reach (and logout, logout-all would end tokens)
        for role in holders(rule.permission):
            answer = request(client, w, key, "B", w.token(f"{USER[role]}_a"))
            checked += 1
            if rule.scope in ("branch", "own"):
                if answer.status_code != 404:
                    wrong.append((key, role.value, answer.status_code, answer.text[:120]))
            elif answer.status_code < 400:
                text = answer.content.decode("utf-8", "replace")
                leaked = [m for m in B_MARKERS if m in text]
                if leaked:
                    wrong.append((key, role.value, answer.status_code, leaked))
    assert wrong == []
    assert checked > 100


SCOPED = [key for key, rule in ROUTES.items() if rule.scope in ("branch", "own")]


@pytest.mark.parametrize("key", SCOPED, ids=[f"{m} {p}" for m, p in SCOPED])
def test_the_parent_branch_reaches_the_object(
    client: TestClient, w: World, key: tuple[str, str]
) -> None:
    """County B's users (B1's parent) reach B1's objects; an admin reaches them all. A personal
    object (an API token) is reached by its owner only."""
    rule = ROUTES[key]
    if rule.scope == "own":
        assert request(client, w, key, "B", w.token("ops_b")).status_code == 200
        assert request(client, w, key, "A", w.token("ops_b")).status_code == 404
        return
    roles = holders(rule.permission)
    user = f"{USER[roles[0]]}_b" if roles else "admin"  # admins alone: they see everything
    answer = request(client, w, key, "B", w.token(user))
    assert answer.status_code not in (401, 403, 404), (user, answer.status_code, answer.text)
    assert answer.status_code < 500, answer.text
    if key[0] == "GET":
        assert answer.status_code == 200, answer.text
