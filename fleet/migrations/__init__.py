"""Schema migrations (Alembic). `fleet db upgrade` and the tests call `upgrade()`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

HERE = Path(__file__).parent


def load_models() -> None:
    """Imports every table model so that the metadata is complete."""
    import fleet.aftersales.models
    import fleet.auth.models
    import fleet.core.audit
    import fleet.core.overrides
    import fleet.feeds.models
    import fleet.inventory.geocode
    import fleet.inventory.holders
    import fleet.inventory.models
    import fleet.jobs.models
    import fleet.markets.models
    import fleet.pay.contract_models
    import fleet.pay.models
    import fleet.pay.scorecard_models
    import fleet.recovery.models
    import fleet.scoring.models
    import fleet.visits.models  # noqa: F401
    from fleet.core.db import ids_never_reused, metadata

    ids_never_reused(metadata)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.set_main_option(
        "file_template", "%%(year)d-%%(month).2d-%%(day).2d-%%(hour).2d%%(minute).2d_%%(slug)s"
    )
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def current_head() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
