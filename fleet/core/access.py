"""Who is acting, and what their role lets them do. One table of permissions for the service.

Branch scope: a user sees and changes only their home branch's subtree; `admin` sees all.
An object outside the caller's scope is reported as not found, so ids never leak.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from fleet.core.errors import Forbidden


class Role(StrEnum):
    admin = "admin"
    branch_ops = "branch_ops"
    field = "field"
    marketing = "marketing"
    # After-sales staff (售后): internal, re-hired retirees, or a contractor's technicians.
    service = "service"


class Permission(StrEnum):
    read_inventory = "read_inventory"
    write_inventory = "write_inventory"
    write_markets = "write_markets"
    change_lifecycle = "change_lifecycle"
    read_users = "read_users"
    write_users = "write_users"
    write_branches = "write_branches"
    read_audit = "read_audit"
    import_data = "import_data"
    # Merchant phone numbers and contact names in clear (others see them masked).
    read_contacts = "read_contacts"
    read_campaigns = "read_campaigns"
    plan_campaigns = "plan_campaigns"
    import_prospects = "import_prospects"
    request_recovery = "request_recovery"
    decide_recovery = "decide_recovery"
    plan_visits = "plan_visits"
    read_visits = "read_visits"
    # Bank-wide operations: job runs, the recovery sweep.
    run_jobs = "run_jobs"
    # Fault tickets (fleet.aftersales): see them; open and work them (take one from the
    # branch's pool, on site, pause, restore); dispatch them (assign anyone, close, cancel,
    # confirm or dismiss suspicions).
    read_tickets = "read_tickets"
    work_tickets = "work_tickets"
    dispatch_tickets = "dispatch_tickets"
    # Contractors and their terms (admins).
    manage_contractors = "manage_contractors"
    # The fee schedule, merchants' fee classes, re-pricing stored transactions.
    write_fees = "write_fees"
    # Revenue, 收益率 and pay amounts (others see counts without money).
    read_pay = "read_pay"
    # 五提升 scorecard: approve a period's plan (freezing its baseline), import the four
    # rates from the bank's other systems; set the measures' weights per role (admins).
    approve_scorecard = "approve_scorecard"
    set_scorecard_weights = "set_scorecard_weights"
    # Contracts (承包): draft, approve and settle them (branch operations above the contractor).
    manage_contracts = "manage_contracts"


_ALL = frozenset(Permission)
# The one table of who may do what; every check goes through Actor.can / Actor.require.
PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.admin: _ALL,
    Role.branch_ops: _ALL
    - {
        Permission.write_branches,
        Permission.plan_campaigns,
        Permission.run_jobs,
        Permission.manage_contractors,
        Permission.write_fees,
        Permission.set_scorecard_weights,
    },
    Role.field: frozenset(
        {
            Permission.read_inventory,
            Permission.read_contacts,
            Permission.request_recovery,
            Permission.read_visits,
            # The fault tickets they reported at their visits.
            Permission.read_tickets,
        }
    ),
    Role.marketing: frozenset(
        {
            Permission.read_inventory,
            Permission.write_markets,
            Permission.read_campaigns,
            Permission.plan_campaigns,
            Permission.import_prospects,
        }
    ),
    # Service staff see their own tickets and their branch's open pool (fleet.aftersales).
    Role.service: frozenset(
        {Permission.read_tickets, Permission.work_tickets, Permission.read_contacts}
    ),
}


@dataclass(frozen=True)
class Actor:
    """The caller of a service function: a logged-in user, or the command line."""

    username: str
    role: Role
    user_id: int | None = None
    # The branch ids this actor may see; None means every branch.
    branch_ids: frozenset[int] | None = None

    def can(self, permission: Permission) -> bool:
        return permission in PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise Forbidden(
                "role {role} may not {action}",
                role=self.role.value,
                action=permission.value.replace("_", " "),
            )

    def sees_branch(self, branch_id: int | None) -> bool:
        return self.branch_ids is None or branch_id in self.branch_ids


def system_actor(name: str = "cli") -> Actor:
    """The actor for command-line and scheduled work: full access, recorded by name."""
    return Actor(username=name, role=Role.admin)
