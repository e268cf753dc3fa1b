"""Phrases: what a record says, stored as a code and its values, worded when it is shown.

A reason, a lifecycle note or an explanation is kept as `{"code": ..., "values": {...}}`
(JSON), never as a sentence: the code's English msgid below, with `{name}` fields, is looked
up in the catalogue of the reader's language (phrases.po) when the page, export or command
shows it. So a reason recorded today reads right in Chinese and in English, and a wording fix
here reaches every old record.

A value is shown as it is (a name, a number, what a person typed), or is itself one of:
- a phrase (a dict with "code"): worded the same way, so phrases nest;
- a word (`{"word": kind, "value": v}`): a status value in words (fleet.core.words);
- a day (`{"date": "2026-11-26"}`): the day in the reader's format;
- a share (`{"percent": 0.42}`): "42%";
- a sum of money (`{"yuan": 50000}`): "50,000 yuan", in Chinese "5.0万元" from 10,000 up;
- a list: its items worded and joined ("；" between phrases, "、" between the rest in Chinese).
Text recorded before phrases existed is kept as a "legacy" phrase with both languages' text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from fleet.core.errors import FleetError
from fleet.core.i18n import N_

if TYPE_CHECKING:
    from fleet.core.i18n import Texts

Phrase = dict[str, Any]

__all__ = [
    "PHRASES",
    "Phrase",
    "day",
    "error",
    "legacy",
    "parts",
    "percent",
    "phrase",
    "say",
    "text",
    "word",
    "yuan",
]

# code -> its English msgid. Codes are stored in the database: never rename or drop one
# (reword the msgid instead, and its Chinese in phrases.po).
PHRASES: dict[str, str] = {
    # what a person typed, and text kept from before phrases
    "text": "{text}",
    "legacy": "{text}",
    "parts": "{parts}",
    # a domain error kept as its msgid (errors.po) and values: error(), worded by say()
    "error": "{text}",
    # why a feed run stopped (fleet.feeds.service)
    "run_stopped": N_("the process stopped before the run finished; nothing of it was kept"),
    "run_stopped_resumable": N_(
        "the process stopped before the run finished; pages taken before it are kept and the "
        "next pull resumes after them"
    ),
    # who did it (fleet.auth.names), when no person did
    "actor_job": N_("Scheduled job {job}"),
    "actor_cli": N_("Command line ({user})"),
    "actor_recovery": N_("Recovery follow-up (automatic)"),
    "actor_demo": N_("Demo data"),
    # the terminal lifecycle
    "registered": N_("Registered"),
    "registered_deployed": N_("Registered as already deployed"),
    "recovery_approved": N_("Recovery approved"),
    "recovery_approved_note": N_("Recovery approved: {note}"),
    "recovery_rejected": N_("Recovery rejected: {note}"),
    "recovery_deferred": N_("Recovery deferred until {until}"),
    "recovery_deferred_note": N_("Recovery deferred until {until}: {note}"),
    "recovery_collected": N_("Recovery #{request}: unit collected"),
    "recovery_collected_note": N_("Recovery #{request}: unit collected ({note})"),
    "used_again": N_("Used again from {first} ({count} transactions since the request)"),
    "moved_elsewhere": N_("The unit became {state} elsewhere; the request is closed"),
    "second_marketing": N_("Second marketing"),
    "placed_note": N_("Placed again: {note}"),
    "fault_ticket": N_("Fault ticket #{ticket}"),
    "fault_ticket_vendor": N_("Fault ticket #{ticket}: sent to the vendor"),
    "fault_ticket_cancelled": N_("Fault ticket #{ticket}: cancelled"),
    "fault_ticket_resolved": N_("Fault ticket #{ticket}: {resolution}"),
    "vendor_sent": N_("Sent to the vendor {vendor}"),
    "vendor_repair": N_("Vendor repair #{repair}: {outcome}"),
    "campaign_placed": N_("Placed by the campaign {campaign}"),
    # why a recovery was asked for
    "visit_outcome": N_("Visit on {day}: {outcome}"),
    "visit_outcome_note": N_("Visit on {day}: {outcome} ({note})"),
    "visit_found": N_("Visit outcome: {outcome}"),
    "visit_found_note": N_("Visit outcome: {outcome} ({note})"),
    "outcome_corrected": N_("The outcome of the visit on {day} was corrected; request withdrawn"),
    "moved_to_recovery": N_("Moved to recovery by a visit outcome or by hand"),
    "rule_dormant_revisited": N_(
        "Unused for {days} days (last used {last_used}); still unused {waited} days after the "
        "revisit on {visit_day}"
    ),
    "rule_unused_in_data": N_(
        "Not used in {days} days of data (data since {since}; deployed on {deployed})"
    ),
    "rule_never_used": N_("Never used in the {days} days since it was deployed on {since}"),
    "rule_no_need": N_("Visit on {visit_day}: the merchant has no need of it; not used since"),
    "rule_wants_recovery": N_(
        "Visit on {visit_day}: the merchant asked us to take it; not used since"
    ),
    "rule_closed_record": N_("The merchant record says the merchant has closed"),
    "rule_moved_record": N_("The merchant record says the merchant has moved away"),
    "rule_closed_visit": N_("The visit on {visit_day} found the merchant has closed"),
    "rule_moved_visit": N_("The visit on {visit_day} found the merchant has moved away"),
    # why a unit is on a revisit list
    "why_recover": N_("Recovery approved {days} days ago"),
    "why_unused_in_data": N_("Not used in {days} days of data (since {since})"),
    "why_never_used": N_("Never used in {days} days"),
    "why_dormant": N_("Dormant for {days} days"),
    "why_idle": N_("Idle for {days} days"),
    "why_declining": N_("Use fell to {share} of usual"),
    "why_monthly": N_("Own {own} transactions a month, similar units {peers}"),
    "why_market_active": N_("Market {rate} active"),
    "why_failed_visits": N_("{n} earlier visits did not activate it"),
    "why_follow_up_late": N_("Follow-up {days} days overdue"),
    "why_follow_up_due": N_("Follow-up due {due}"),
    "why_campaign": N_("Campaign {campaign} in {market}: prospect"),
    "why_bring_unit": N_("Bring unit {sn}"),
    # where an in-stock unit could go (fleet.recovery.redeploy)
    "target_market": N_("{market} ({trade})"),
    "target_peers": N_(
        "Its {peers} units averaged {expected} transactions in 30 days, {rate} active"
    ),
    "target_trade": N_("Too few units here; {trade} markets average {expected} a month"),
    "target_free": N_("{n} merchants have no unit; {km} km from the branch"),
    "target_campaign": N_("Campaign {campaign} running"),
    # a service day's stops (fleet.aftersales.dayplan)
    "service_ticket": N_("Ticket #{ticket}: {symptom}"),
    "service_swap": N_("Swap: bring a spare"),
    "service_due": N_("Restore by {due}"),
    # why the feed suspects a unit is faulty (fleet.aftersales.watch)
    "suspect_silent": N_(
        "No successful transaction for {days} days (it transacted on {share} of the {baseline} "
        "days before)"
    ),
    "suspect_failing": N_(
        "{share} of its attempts failed in the last {days} days ({failed}/{attempts}), against "
        "{before} before"
    ),
    # why a market ranks where it does (fleet.markets.ranking)
    "market_unserved": N_(
        "about {potential} unserved ({known} merchants known, {with_unit} with a unit)"
    ),
    "market_unserved_stalls": N_(
        "about {potential} unserved ({known} merchants known, {with_unit} with a unit, "
        "{stalls} stalls)"
    ),
    "market_not_scored": N_("nothing scored yet"),
    "market_trade": N_("{trade} units {rate} active, {ratio}x the fleet's volume"),
    "market_no_trade": N_("no {trade} units yet, fleet at {rate} active"),
    "market_stock": N_("{stock} units in stock within {km} km"),
    "market_saturated": N_("{share} penetrated, near saturation"),
    "market_campaign_running": N_("a campaign is under way"),
    "market_campaign_planned": N_("a campaign is planned"),
    "market_campaign_recent": N_("campaigned {days} days ago"),
    # why a merchant is worth a campaign's visit (fleet.markets.prospects)
    "prospect_no_records": N_("No counter cash records"),
    "prospect_counter": N_("{visits} counter cash visits a month"),
    "prospect_counter_cash": N_("{visits} counter cash visits a month, {cash} on average"),
    "prospect_in_market": N_("in {market} ({trade}, trade {rate} active)"),
    "prospect_in_market_unscored": N_("in {market} ({trade})"),
    "prospect_outside": N_("not in a market ({trade}, {rate} active)"),
    "prospect_outside_unscored": N_("not in a market ({trade})"),
    "prospect_has_unit": N_("Has a unit"),
    "prospect_not_open": N_("Not open"),
    "prospect_campaign": N_("{campaign}: a merchant of the market without a unit"),
    # why a candidate was left out of the day's routes (fleet.visits.present.UNPLANNED)
    "unplanned_no_time": N_("No time left in the day for it"),
    "unplanned_outside_hours": N_("Cannot be reached within the shop's hours"),
    "unplanned_too_far": N_("Too far to go and come back the same day"),
    "unplanned_no_location": N_("The merchant has no coordinates"),
    "unplanned_no_staff": N_("No field staff to send"),
    "unplanned_no_goods": N_("No spare of the ticket's branch on hand"),
    "unplanned_assigned_elsewhere": N_("Assigned to someone outside this plan"),
    "unplanned_over_capacity": N_("More candidates than the day's staff can visit; lower priority"),
    # a day plan's notes: how it was made (fleet.visits.plan, .travel, .routes; the service
    # day of fleet.aftersales.dayplan)
    "note_scored_none": N_("scores: none on or before {plan_day}; scored as of {day} now"),
    "note_scored_stale": N_("scores: the newest from {found}; scored as of {day} now"),
    "note_staff_busy": N_("staff already routed by another plan that day: {staff}"),
    "note_left_visited_recently": N_(
        "{count} units visited in the last {days} days left out (no follow-up due)"
    ),
    "note_left_recovery_requested": N_("{count} units awaiting a recovery decision left out"),
    "note_left_planned_elsewhere": N_("{count} units already on another plan for the day left out"),
    "note_left_under_repair": N_("{count} units under repair or restored lately left out"),
    "note_capacity": N_(
        "{over} candidates left for capacity: routes drawn from the best {limit} ({factor:g}x "
        "the {capacity} visits {staff} staff could make at most, at least {floor})"
    ),
    "note_estimate_how": N_(
        "geodesic distance x {circuity:g}, {urban_kmh:g} km/h within {radius_km:g} km of a city "
        "or county branch, {rural_kmh:g} km/h elsewhere"
    ),
    "note_estimates": N_("travel times are estimates: {how}"),
    "note_osrm_failed": N_(
        "routing server {server} could not be used ({error}); travel times are estimates: {how}"
    ),
    "note_osrm_missing": N_(
        "the routing server found no road for {n} of {legs} legs; those are estimated"
    ),
    "note_relaxed": N_("the required stops could not all be served; as many as fit were kept"),
    "note_route_check": N_("route check: {problem}"),
    "note_route_check_dropped": N_("route check: {problem}; its last stop was dropped"),
    "note_solved": N_(
        "{staff} field staff; {candidates} candidates; solved in {seconds:.1f} s "
        "({iterations} iterations)"
    ),
    "note_not_planned": N_("not planned: {counts}"),
    "note_count": N_("{what}: {n}"),
    "note_tickets_late": N_("{n} tickets due today cannot be reached by their deadline"),
    "note_spares": N_("{user} takes {n} spares: {spares}"),
    "note_service_solved": N_(
        "{staff} service staff; {tickets} tickets, {due} due today; solved in {seconds:.1f} s "
        "({iterations} iterations)"
    ),
}


def phrase(code: str, **values: Any) -> Phrase:
    """The stored form of a phrase (values must be JSON: text, numbers, dicts, lists)."""
    if code not in PHRASES:
        raise KeyError(f"unknown phrase code {code!r}")
    return {"code": code, "values": values} if values else {"code": code}


def text(typed: str) -> Phrase:
    """What a person typed, kept as they typed it."""
    return phrase("text", text=typed)


def error(exc: FleetError) -> Phrase:
    """A domain error kept as its message's msgid (errors.po) and values, worded where it is
    shown; its English text too, should the msgid ever be reworded."""
    values = {name: _stored(value) for name, value in exc.values.items()}
    return {"code": "error", "values": {"msgid": exc.template, "of": values, "text": exc.message}}


def _stored(value: object) -> object:
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)  # a status (StrEnum) as its code, anything else as its English


def legacy(zh: str, en: str = "") -> Phrase:
    """Text recorded before phrases: kept whole, in each language it was given in."""
    return phrase("legacy", zh=zh, en=en or zh)


def parts(*items: Phrase | None) -> Phrase:
    """Several phrases read as one ("…；…")."""
    return phrase("parts", parts=[p for p in items if p])


def word(kind: str, value: object) -> dict[str, str]:
    """A status value, shown in words (fleet.core.words' table `kind`)."""
    return {"word": kind, "value": str(getattr(value, "value", value))}


def day(value: dt.date | str) -> dict[str, str]:
    """A day, shown in the reader's date format."""
    return {"date": value if isinstance(value, str) else value.isoformat()}


def percent(value: float, digits: int = 0) -> dict[str, float | int]:
    """A fraction, shown as a percentage."""
    return {"percent": value, "digits": digits}


def yuan(value: float) -> dict[str, float]:
    """A sum of money in yuan, shown in the reader's way of counting it."""
    return {"yuan": value}


# A sum in yuan, and (Chinese counts in 万 from 10,000 up) in ten thousands.
YUAN, WAN_YUAN = N_("{yuan} yuan"), N_("{wan} ten thousand yuan")


def _yuan(amount: float, t: Texts) -> str:
    if t.lang == "zh" and amount >= 10_000:
        return t.gettext(WAN_YUAN, wan=t.number(amount / 10_000, 1))
    return t.gettext(YUAN, yuan=t.number(amount))


def actor(name: str | None) -> Phrase | None:
    """The system's own actors in words ("job:nightly", "cli:root", "demo"); None for a person
    (their full name is looked up: fleet.auth.names)."""
    prefix, _, rest = (name or "").partition(":")
    if prefix == "job" and rest:
        return phrase("actor_job", job=rest)
    if prefix == "cli":
        return phrase("actor_cli", user=rest or "local")
    if prefix == "recovery":
        return phrase("actor_recovery")
    if name == "demo":
        return phrase("actor_demo")
    return None


def _value(value: Any, t: Texts) -> Any:
    if isinstance(value, Mapping):
        if "code" in value:
            return say(value, t)
        if "word" in value:
            from fleet.core.words import WORDS

            table = WORDS.get(str(value["word"]), {})
            key = str(value.get("value"))
            return t.gettext(table[key]) if key in table else key
        if "yuan" in value:
            return _yuan(float(value["yuan"]), t)
        if "percent" in value:
            return t.percent(float(value["percent"]), int(value.get("digits", 0)))
        if "date" in value:
            try:
                return t.date(dt.date.fromisoformat(str(value["date"])))
            except ValueError:
                return str(value["date"])
        return str(dict(value))
    if isinstance(value, Sequence) and not isinstance(value, str):
        said = [_value(v, t) for v in value]
        phrases = any(isinstance(v, Mapping) and "code" in v for v in value)
        zh = t.lang == "zh"
        joiner = ("；" if zh else "; ") if phrases else ("、" if zh else ", ")
        return joiner.join(str(s) for s in said)
    return value


def say(stored: Mapping[str, Any] | None, t: Texts) -> str:
    """The phrase in the reader's words ('' for none)."""
    if not stored:
        return ""
    code = str(stored.get("code", ""))
    values = dict(stored.get("values") or {})
    if code == "legacy":
        first, other = ("zh", "en") if t.lang == "zh" else ("en", "zh")
        return str(values.get(first) or values.get(other) or "")
    if code == "error":
        try:
            return t.gettext(str(values["msgid"]), **dict(values.get("of") or {}))
        except (KeyError, ValueError, IndexError):
            return str(values.get("text") or "")
    if code not in PHRASES:
        return code
    shown = {name: _value(v, t) for name, v in values.items()}
    try:
        return t.gettext(PHRASES[code], **shown) if shown else t.gettext(PHRASES[code])
    except (KeyError, ValueError, IndexError):  # a field the wording lacks or a bad format
        return t.gettext(PHRASES[code])
