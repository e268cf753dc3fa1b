"""The words for status values that domain errors carry: core names the enums by class name
(it imports no domain), so this checks each name is a real enum and its table is complete."""

from __future__ import annotations

from enum import StrEnum

from fleet.aftersales.models import TicketState
from fleet.core.access import Role
from fleet.core.words import BY_TYPE
from fleet.inventory.models import BranchLevel, MarketCategory, MerchantStatus, TerminalState
from fleet.pay.contract_models import ContractStatus, ContractTerm
from fleet.pay.models import FeeType, MerchantClass
from fleet.recovery.models import RequestStatus
from fleet.scoring.models import UsageStatus
from fleet.visits.models import Outcome, VisitKind, VisitStatus

ENUMS: list[type[StrEnum]] = [
    TerminalState,
    TicketState,
    UsageStatus,
    RequestStatus,
    Outcome,
    VisitKind,
    VisitStatus,
    MerchantStatus,
    BranchLevel,
    Role,
    MarketCategory,
    ContractStatus,
    ContractTerm,
    FeeType,
    MerchantClass,
]


def test_every_table_names_a_domain_enum_and_covers_its_values() -> None:
    by_name = {enum.__name__: enum for enum in ENUMS}
    assert set(BY_TYPE) == set(by_name)
    for name, table in BY_TYPE.items():
        assert {member.value for member in by_name[name]} <= set(table), name
