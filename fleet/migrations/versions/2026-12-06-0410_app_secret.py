"""app secret: the database keeps a random signing key, used when FLEET_SECRET_KEY is unset

Revision ID: app_secret
Revises: txn_key_per_terminal
Create Date: 2026-12-06 04:10:00.000000
"""

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

import fleet.core.db

revision: str = 'app_secret'
down_revision: str | None = 'txn_key_per_terminal'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table('app_secret',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('value', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', fleet.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_app_secret'))
    )
    # Made here, once, so that workers starting together never race to make it
    # (fleet.auth.keys still makes one for a database that lost it).
    op.bulk_insert(
        table,
        [{'name': 'signing_key', 'value': secrets.token_urlsafe(64), 'created_at': datetime.now(UTC)}],
    )


def downgrade() -> None:
    op.drop_table('app_secret')
