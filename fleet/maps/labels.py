"""What maps say, in Chinese (the default) and English."""

from __future__ import annotations

from fleet.core.i18n import N_, Lang, lang_of, texts_for
from fleet.core.words import USAGE, said

__all__ = ["Lang", "lang_of"]  # with the tables below: what maps say

# What each key says: an English msgid, its Chinese in the catalogue (maps.po), as every page
# text is. The maps' script gets the worded table of the reader's language as `text`.
MSGIDS: dict[str, str] = {
    "coverage_title": N_("Terminal coverage"),
    "all_branches": N_("The whole bank"),
    "as_of": N_("Data as of"),
    "not_scored": N_("not scored yet"),
    "layer_terminals": N_("Terminals by status"),
    "layer_density": N_("Activity density (active rate)"),
    "layer_markets": N_("Wholesale markets"),
    "layer_branches": N_("Branches and service radius"),
    "layer_white_spots": N_("White spots (no terminal)"),
    "layer_tickets": N_("Fault tickets (red: late, amber: due in 2 h, green: on time)"),
    "ticket": N_("Ticket"),
    "hours_left": N_("{h} business hours left"),
    "hours_late": N_("{h} business hours late"),
    "clock_paused": N_("Clock paused"),
    "legend": N_("Legend"),
    "status": N_("Status"),
    "sn": N_("Serial no."),
    "phone": N_("Phone"),
    "merchant": N_("Merchant"),
    "code": N_("Code"),
    "last_use": N_("Last use"),
    "never_used": N_("never used"),
    "days_ago": N_("{n} days ago"),
    "days_ago_1": N_("1 day ago"),
    "txn_30": N_("Transactions, last 30 days"),
    "txn_unit": N_(""),
    "api_link": N_("Terminal details (API)"),
    "terminals": N_("Terminals"),
    "terminals_here": N_("{n} terminals here"),
    "terminals_here_1": N_("1 terminal here"),
    "more": N_("and {n} more"),
    "zoom_in": N_("zoom in"),
    "active": N_("Active"),
    "active_rate": N_("Active rate"),
    "merchants": N_("Merchants"),
    "with_terminal": N_("With a terminal"),
    "coverage": N_("Coverage"),
    "deployed": N_("Deployed terminals"),
    "trade": N_("Trade"),
    "stalls": N_("Stalls"),
    "approximate": N_("approximate location"),
    "white_market": N_("White spot: no deployed terminal"),
    "white_merchant": N_("No terminal: a sales opportunity"),
    "white_spots": N_("Merchants without a terminal"),
    "white_markets": N_("Markets without a terminal"),
    "service_radius": N_("Service radius"),
    "level": N_("Level"),
    "km": N_("km"),
    "base_map": N_("Base map"),
    "no_coordinates": N_("Not shown: {n} terminals whose merchant has no coordinates"),
    "hex": N_("Area (hexagon)"),
    "no_data": N_("no data"),
    "branch": N_("Branch"),
    "market": N_("Market"),
    "routes_title": N_("Visit routes"),
    "service_routes_title": N_("Service routes"),
    "stop": N_("Stop {n}"),
    "arrival": N_("Planned arrival"),
    "departure": N_("Planned departure"),
    "reason": N_("Why visit"),
    "navigate": N_("Navigate (AMap)"),
    "start_end": N_("Start / end"),
    "depart": N_("Leaves"),
    "back": N_("Back"),
    "stops": N_("stops"),
    "stops_1": N_("stop"),
    "people": N_("{n} people"),
    "people_1": N_("1 person"),
    "distance": N_("Distance"),
    "no_stops": N_("no visits this day"),
    "m": N_("m"),
    "tiles_note": N_(
        "The {name} base map's tiles come from the internet: on the bank's intranet the map "
        "stays grey. Set FLEET_MAP_TILES_URL to the bank's own tile server."
    ),
    "back_field": N_("← Back to today's visits"),
    "back_plans": N_("← Back to the visit plans"),
    "campaign_title": N_("Market campaign map"),
    "layer_c_market": N_("Campaign market"),
    "layer_c_prospects": N_("Prospects by outcome"),
    "layer_c_placed": N_("Units placed"),
    "layer_c_set_aside": N_("Branches holding set-aside units"),
    "prospects": N_("Prospects"),
    "priority": N_("Priority"),
    "staff": N_("Staff in charge"),
    "placed_on": N_("Placed on"),
    "state": N_("State"),
    "units_set_aside": N_("Units set aside"),
    "in_stock": N_("still in stock"),
    "target": N_("Target"),
    "period": N_("Campaign period"),
    "placed": N_("Placed"),
    "unscored": N_("Not scored"),
}
TEXT: dict[str, dict[str, str]] = {
    lang: {key: texts_for(lang).gettext(msgid) for key, msgid in MSGIDS.items()}
    for lang in ("zh", "en")
}

# Usage statuses and lifecycle states in the pages' words (core.words, one word per status).
STATUS: dict[str, dict[str, str]] = {
    lang: {key: said("usage", key, lang) for key in USAGE} | {"unscored": TEXT[lang]["unscored"]}
    for lang in ("zh", "en")
}

# Lifecycle states a unit at a merchant can be in (shown when not plainly deployed).
STATE: dict[str, dict[str, str]] = {
    lang: {
        key: said("state", key, lang)
        for key in ("deployed", "recovery_requested", "recovery_approved")
    }
    for lang in ("zh", "en")
}

# Campaign prospects by outcome (fleet.markets.models.ProspectStatus), in the campaign page's
# and report's words.
PROSPECT: dict[str, dict[str, str]] = {
    lang: {
        key: said("prospect_status", key, lang)
        for key in ("placed", "visited", "pending", "declined")
    }
    for lang in ("zh", "en")
}

LEVEL: dict[str, dict[str, str]] = {
    lang: {key: said("level", key, lang) for key in ("city", "county", "outlet")}
    for lang in ("zh", "en")
}


def trade(category: str, lang: Lang) -> str:
    """A market's trade as a short label: 五金, or 'Hardware'."""
    return said("market_category", category, lang)
