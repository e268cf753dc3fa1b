"""The words every page uses for the values of statuses and kinds (English msgids, shown in
the user's language): one table per kind, so a status reads the same on every page."""

from __future__ import annotations

from fleet.core.i18n import N_, Lang, texts_for

USAGE = {
    "active": N_("Active"),
    "declining": N_("Declining"),
    "idle": N_("Idle"),
    "dormant": N_("Dormant"),
    "never_used": N_("Never used"),
    "new": N_("Newly placed"),
}
STATE = {
    "in_stock": N_("In stock"),
    "deployed": N_("Deployed"),
    "recovery_requested": N_("Recovery requested"),
    "recovery_approved": N_("Recovery approved"),
    "recovered": N_("Recovered"),
    "faulty": N_("Faulty"),
    "in_repair": N_("In repair"),
    "retired": N_("Retired"),
    "lost": N_("Lost"),
}
TICKET = {
    "suspected": N_("Suspected fault"),
    "open": N_("Ticket open"),
    "assigned": N_("Assigned"),
    "on_site": N_("On site"),
    "awaiting_parts": N_("Awaiting parts"),
    "at_vendor": N_("At the vendor"),
    "restored": N_("Restored"),
    "closed": N_("Ticket closed"),
    "cancelled": N_("Ticket cancelled"),
}
REQUEST = {
    "pending": N_("Awaiting decision"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "completed": N_("Unit collected"),
    "cancelled": N_("Withdrawn"),
    "withdrawn": N_("Withdrawn: the visit outcome was corrected"),
}
SOURCE = {"rule": N_("Recovery rule"), "manual": N_("Raised by hand"), "visit": N_("Visit outcome")}
AUDIT = {
    "raise": N_("Raised"),
    "approve": N_("Approved"),
    "reject": N_("Rejected"),
    "defer": N_("Deferred"),
    "complete": N_("Unit collected"),
    "cancel": N_("Withdrawn"),
    "withdraw": N_("Withdrawn: the visit outcome was corrected"),
}
OUTCOME = {
    "reached_promised": N_("Reached; promised to use the unit"),
    "needs_training": N_("Needs training"),
    "device_faulty": N_("Device faulty"),
    "wants_recovery": N_("Merchant wants the unit taken back"),
    "no_need": N_("Merchant has no need"),
    "closed": N_("Shop has closed"),
    "moved": N_("Shop has moved"),
    "not_found": N_("Shop not found"),
    "recovered": N_("Unit collected"),
}
VISIT_KIND = {
    "revisit": N_("Revisit"),
    "follow_up": N_("Follow-up"),
    "recover": N_("Collect unit"),
    "campaign": N_("Campaign"),
    "service": N_("Fault repair"),
}
VISIT_STATUS = {"planned": N_("Planned"), "done": N_("Done"), "cancelled": N_("Cancelled")}
MERCHANT_STATUS = {"open": N_("Open"), "closed": N_("Closed down"), "moved": N_("Moved away")}
RUN_STATUS = {
    "running": N_("Running"),
    "succeeded": N_("Succeeded"),
    "failed": N_("Failed"),
    "interrupted": N_("Interrupted"),
}
REJECT_REASON = {
    "malformed_line": N_("Malformed line"),
    "bad_encoding": N_("Bad encoding"),
    "missing_field": N_("Missing field"),
    "bad_timestamp": N_("Bad time"),
    "future_timestamp": N_("Time in the future"),
    "bad_amount": N_("Bad amount"),
    "non_positive_amount": N_("Amount not positive"),
    "unknown_type": N_("Unknown transaction type"),
    "unknown_status": N_("Unknown transaction status"),
    "unknown_terminal": N_("Unknown terminal"),
    "not_deployed": N_("Terminal not at a merchant then"),
    "control_character": N_("Control character"),
}
LEVEL = {"city": N_("City branch"), "county": N_("County branch"), "outlet": N_("Outlet")}
ROLE = {
    "admin": N_("Administrator"),
    "branch_ops": N_("Branch operations"),
    "field": N_("Field officer"),
    "marketing": N_("Marketing"),
    "service": N_("Service staff"),
}
MARKET_CATEGORY = {
    "appliances": N_("Home appliances"),
    "furniture": N_("Furniture"),
    "home_decoration": N_("Home decoration"),
    "building_materials": N_("Building materials"),
    "stone": N_("Stone"),
    "medicinal_herbs": N_("Medicinal herbs"),
    "hardware": N_("Hardware"),
    "auto_parts": N_("Auto parts"),
    "farm_supplies": N_("Farm supplies"),
    "other": N_("Other trades"),
}
CONTRACT_STATUS = {
    "draft": N_("Draft"),
    "approved": N_("Approved, not begun"),
    "running": N_("Running"),
    "settled": N_("Settled"),
}
CONTRACT_TERM = {
    "target_active_rate": N_("target active-terminal rate"),
    "target_revenue_fen": N_("target revenue"),
    "commission_ppm": N_("commission rate"),
    "threshold_pct": N_("threshold"),
    "cap_pct": N_("cap"),
}
PORTFOLIO_KIND = {
    "branch": N_("A branch and those below it"),
    "market": N_("A wholesale market"),
    "merchants": N_("A list of merchants"),
}
CONTRACT_LINE = {
    "unit": N_("A unit's revenue"),
    "baseline": N_("Baseline"),
    "clawback": N_("Clawback"),
}
RESOLUTION = {
    "repaired_on_site": N_("Repaired on site"),
    "swapped": N_("Swapped with a spare"),
    "sent_to_vendor": N_("Sent to the vendor"),
    "no_fault_found": N_("No fault found"),
    "merchant_caused": N_("Caused by the merchant"),
}
SYMPTOM = {
    "phone_line": N_("Phone line / no dial tone"),
    "card_reader": N_("Card reader"),
    "printer": N_("Printer"),
    "keypad": N_("Keypad"),
    "display": N_("Display"),
    "power": N_("Power"),
    "key_injection": N_("Key injection / PIN pad"),
    "tampering": N_("Suspected tampering"),
    "other": N_("Other fault"),
}
FEE_TYPE = {
    "transfer": N_("Transfer"),
    "card_payment": N_("Card payment"),
    "bill_payment": N_("Bill payment"),
}
MERCHANT_CLASS = {
    "standard": N_("Standard merchant"),
    "preferential": N_("Preferential merchant"),
    "non_profit": N_("Non-profit"),
}
TXN_TYPE = {
    "transfer": N_("Transfer"),
    "card_payment": N_("Card payment"),
    "bill_payment": N_("Bill payment"),
    "balance_inquiry": N_("Balance inquiry"),
    "reversal": N_("Reversal"),
}
CAMPAIGN_PHASE = {"planned": N_("Planned"), "running": N_("Running"), "finished": N_("Ended")}
PROSPECT_STATUS = {
    "pending": N_("To visit"),
    "visited": N_("Visited"),
    "placed": N_("Unit placed"),
    "declined": N_("Declined"),
}
# How a merchant came onto a campaign's prospect list (CampaignProspect.source).
PROSPECT_SOURCE = {
    "market": N_("Merchant in the market"),
    "import": N_("Imported from branch records"),
    "manual": N_("Added by hand"),
    "placement": N_("Added when a unit was placed"),
}
# Templates get them all as `words`: {{ _(words.state[t.state]) }}.
# An SLA deadline a ticket missed (fleet.aftersales.sla).
BREACH = {
    "response": N_("response late"),
    "on_site": N_("on site late"),
    "restore": N_("restore late"),
}

WORDS = {
    "breach": BREACH,
    "ticket": TICKET,
    "usage": USAGE,
    "state": STATE,
    "request": REQUEST,
    "source": SOURCE,
    "audit": AUDIT,
    "outcome": OUTCOME,
    "visit_kind": VISIT_KIND,
    "visit_status": VISIT_STATUS,
    "merchant_status": MERCHANT_STATUS,
    "run_status": RUN_STATUS,
    "reject_reason": REJECT_REASON,
    "level": LEVEL,
    "role": ROLE,
    "market_category": MARKET_CATEGORY,
    "contract_status": CONTRACT_STATUS,
    "portfolio_kind": PORTFOLIO_KIND,
    "contract_line": CONTRACT_LINE,
    "resolution": RESOLUTION,
    "symptom": SYMPTOM,
    "txn_type": TXN_TYPE,
    "campaign_phase": CAMPAIGN_PHASE,
    "prospect_status": PROSPECT_STATUS,
    "prospect_source": PROSPECT_SOURCE,
}


def word(kind: str, value: object) -> str:
    """The msgid for a status value (the value itself when it has none)."""
    key = getattr(value, "value", value)
    return WORDS[kind].get(str(key), str(key))


def said(kind: str, value: object, lang: Lang = "zh") -> str:
    """A status value in words, in `lang` (Chinese by default: exports and the command line
    write the same word as the pages, from the same catalogue)."""
    return texts_for(lang).gettext(word(kind, value))


# The table of each status type that domain errors carry as values (`state=terminal.state`),
# by the enum's class name (core names no domain; a test checks each name is a domain enum
# whose values the table covers): the pages show them in words (Texts.error), the English
# message shows the code.
BY_TYPE: dict[str, dict[str, str]] = {
    "TerminalState": STATE,
    "TicketState": TICKET,
    "UsageStatus": USAGE,
    "RequestStatus": REQUEST,
    "Outcome": OUTCOME,
    "VisitKind": VISIT_KIND,
    "VisitStatus": VISIT_STATUS,
    "MerchantStatus": MERCHANT_STATUS,
    "BranchLevel": LEVEL,
    "Role": ROLE,
    "MarketCategory": MARKET_CATEGORY,
    "ContractStatus": CONTRACT_STATUS,
    "ContractTerm": CONTRACT_TERM,
    "FeeType": FEE_TYPE,
    "MerchantClass": MERCHANT_CLASS,
}
