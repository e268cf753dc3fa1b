"""Names first, codes second: how a branch, a person or a market is written for people.

A bank employee knows 兰山支行 and 邱秀, not LY01 and field_lanshan_1: every list, export
and command writes the name, with the code after it as a detail (to tell two 邱秀 apart, or
to type it into a command). Pages use the `named` macro in `templates/macros.html`, which
writes the code small and grey; text (exports, the command line) uses `named` here. The
names come from `inventory.service.branch_names` and `auth.service.full_names`.
"""

from __future__ import annotations


def named(name: str | None, code: str | None) -> str:
    """'兰山支行 (LY01)'; the code alone when there is no name, the name alone when it is the
    code; '–' when there is neither."""
    if name and code and name != code:
        return f"{name} ({code})"
    return name or code or "–"
