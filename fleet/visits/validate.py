"""An independent check of a timed route against the rules of the day, on the clock.

It shares nothing with the solver's model but the inputs: it re-reads the shops' opening
hours from their text, and checks, in clock time, that the route leaves and returns within
the shift, that every leg has at least its travel time (less any lunch taken on the way),
that every visit lasts the service time inside one opening span and outside lunch, and that
lunch is taken: at least its length, starting between its start and the latest start, once
the route is still out at the latest start. For days that have them (the after-sales
service day) it also checks that a visit with a deadline ends by it, that a visit is one the
person may make, and that the goods the visits take (spares, by kind: a branch's) are ones the
person carries, no more of a kind than carried. Plans are stored only when this finds nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from fleet.inventory.hours import parse_hours


@dataclass(frozen=True)
class Rules:
    shift: tuple[int, int]  # clock seconds
    lunch: tuple[int, int]
    lunch_latest: int
    service_s: int


@dataclass(frozen=True)
class Call:
    """One visit of a route as planned: where, the shop's hours as written, and the times."""

    location: int
    opening_hours: str
    arrival: int
    start: int
    end: int
    due: int | None = None  # the visit must end by then (clock)
    goods: str | None = None  # takes one unit of goods of this kind
    only: frozenset[int] | None = None  # who may make it (None: anyone)


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def _fmt(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def check_route(
    rules: Rules,
    durations: np.ndarray,
    *,
    start: int,
    end: int,
    earliest: int,
    depart: int,
    back: int,
    calls: Sequence[Call],
    lunch: tuple[int, int] | None,
    who: int | None = None,
    carrying: Mapping[str, int] | None = None,
) -> list[str]:
    """Every rule the route breaks, as one line each (empty when it keeps them all)."""
    problems: list[str] = []
    if depart < max(rules.shift[0], earliest):
        problems.append(f"leaves at {_fmt(depart)}, before the shift or its earliest start")
    if back > rules.shift[1]:
        problems.append(f"returns at {_fmt(back)}, after the shift ends at {_fmt(rules.shift[1])}")
    lunch_len = rules.lunch[1] - rules.lunch[0]
    if lunch is not None:
        if not rules.lunch[0] <= lunch[0] <= rules.lunch_latest:
            problems.append(f"lunch starts at {_fmt(lunch[0])}, outside its allowed start")
        if lunch[1] - lunch[0] < lunch_len:
            problems.append(
                f"lunch lasts {(lunch[1] - lunch[0]) // 60} min, under {lunch_len // 60}"
            )
        if not depart <= lunch[0] <= lunch[1] <= back:
            problems.append("lunch falls outside the route")
    elif depart < rules.lunch_latest < back:
        problems.append("the route is out over lunch but takes none")
    pause = lunch or (0, 0)
    place, free_from = start, depart
    for n, call in enumerate(calls, 1):
        need = int(durations[place, call.location])
        have = call.arrival - free_from - _overlap((free_from, call.arrival), pause)
        if have < need:
            problems.append(f"stop {n}: {have} s to travel a leg of {need} s")
        if not call.arrival <= call.start <= call.end:
            problems.append(f"stop {n}: times out of order")
        if call.end - call.start < rules.service_s:
            problems.append(f"stop {n}: visit of {call.end - call.start} s, under the service time")
        if _overlap((call.start, call.end), pause):
            problems.append(f"stop {n}: visit overlaps lunch")
        if call.start < rules.shift[0] or call.end > rules.shift[1]:
            problems.append(f"stop {n}: visit outside the shift")
        spans = [(a * 60, b * 60) for a, b in parse_hours(call.opening_hours)]
        if not any(a <= call.start and call.end <= b for a, b in spans):
            problems.append(
                f"stop {n}: visit {_fmt(call.start)}-{_fmt(call.end)} outside opening hours "
                f"{call.opening_hours}"
            )
        if call.due is not None and call.end > call.due:
            problems.append(
                f"stop {n}: ends at {_fmt(call.end)}, after its deadline {_fmt(call.due)}"
            )
        if call.only is not None and who not in call.only:
            problems.append(f"stop {n}: not one this person may make")
        place, free_from = call.location, call.end
    taken = Counter(c.goods for c in calls if c.goods is not None)
    for kind, count in sorted(taken.items()):
        have = (carrying or {}).get(kind, 0)
        if count > have:
            problems.append(f"takes {count} of {kind}, carries {have}")
    need = int(durations[place, end])
    have = back - free_from - _overlap((free_from, back), pause)
    if have < need:
        problems.append(f"return: {have} s to travel a leg of {need} s")
    return problems
