"""The demo's printable sheet of QR stickers: ten units of 兰山支行 (ops_lanshan's branch)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from fleet.aftersales import qr, qrsheet
from fleet.auth.models import User
from fleet.core.access import system_actor
from fleet.core.config import get_settings
from fleet.core.db import session_scope
from fleet.core.errors import Reason
from fleet.inventory.models import Branch

DEMO_BRANCH_OF = "ops_lanshan"


def write_demo_stickers(engine: Engine, units: int = 10, out: Path | None = None) -> Reason:
    """Writes the sheet (FLEET_MAP_DIR/qr-stickers.html) and says what it wrote (a msgid and
    values: said in the reader's language where it is shown)."""
    out = out or get_settings().map_dir / "qr-stickers.html"
    with session_scope(engine) as session:
        branch = session.execute(
            select(Branch)
            .join(User, col(User.branch_id) == col(Branch.id))
            .where(col(User.username) == DEMO_BRANCH_OF)
        ).scalar_one_or_none()
        if branch is None:
            return Reason("no QR stickers: the demo has no branch for {user}", user=DEMO_BRANCH_OF)
        stickers = qr.stickers(session, system_actor("demo"), branch.code, units)
        name = branch.name
    out.parent.mkdir(parents=True, exist_ok=True)
    qrsheet.write_sheet(stickers, name, out)
    return Reason(
        "{n} QR stickers for {branch} written to {path}",
        n=len(stickers),
        branch=name,
        path=out.resolve(),
    )
