"""A profile known beforehand (the demo's campaign placements: busy) is kept; every other
unit's plan is the one drawn from the hash, as before."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from fleet.feeds.synth import FeedTerminal, profiles

AS_OF = date(2026, 11, 28)


def test_a_known_profile_is_kept_and_the_others_unchanged() -> None:
    units = [
        FeedTerminal(f"SN{k:03d}", f"M{k:03d}", AS_OF - timedelta(days=60 + k), "五金")
        for k in range(200)
    ]
    drawn = profiles(units, as_of=AS_OF)
    quiet = [u for u in units if drawn[u.sn] != "busy"][:5]
    known = [replace(u, profile="busy") if u in quiet else u for u in units]
    kept = profiles(known, as_of=AS_OF)
    assert all(kept[u.sn] == "busy" for u in quiet)
    assert {sn: p for sn, p in kept.items() if sn not in {u.sn for u in quiet}} == {
        sn: p for sn, p in drawn.items() if sn not in {u.sn for u in quiet}
    }
