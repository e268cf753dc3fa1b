"""Opening hours, written as "08:00-18:00" or "08:00-12:00,14:00-18:00" (local time)."""

from __future__ import annotations

import re
import unicodedata

from fleet.core.errors import BadValue, Reason

_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–~至]\s*(\d{1,2}):(\d{2})\s*$")


# Open day and night, as shops and sheets write it.
_ALL_DAY = {"全天", "全天营业", "24小时", "24小时营业", "24h"}


def parse_hours(text: str) -> list[tuple[int, int]]:
    """The open spans as (start, end) minutes after midnight, in order; BadValue if malformed.
    "全天" or "24小时" is open all day (00:00-24:00)."""
    if re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower() in _ALL_DAY:
        return [(0, 24 * 60)]
    spans: list[tuple[int, int]] = []
    for part in re.split(r"[,，;；]", text):
        match = _SPAN.match(part)
        if not match:
            raise BadValue(Reason("opening hours {text!r} should look like 08:00-18:00", text=text))
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59:
            raise BadValue(Reason("opening hours {text!r} hold an impossible time", text=text))
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if end <= start or end > 24 * 60:
            raise BadValue(
                Reason("opening hours {text!r}: each span must end after it starts", text=text)
            )
        if spans and start < spans[-1][1]:
            raise BadValue(
                Reason("opening hours {text!r}: spans overlap or are out of order", text=text)
            )
        spans.append((start, end))
    return spans


def normalise_hours(text: str) -> str:
    """The canonical spelling of `text` ("8:00 - 18:00" becomes "08:00-18:00")."""
    return ",".join(
        f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}" for s, e in parse_hours(text)
    )
