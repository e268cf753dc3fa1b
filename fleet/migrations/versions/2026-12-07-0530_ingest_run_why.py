"""ingest_run_why: why a feed run failed, as a phrase

A failed run kept only its English sentence (`error`), which the operations' pages showed as
it was on Chinese screens. `why` keeps it as a phrase (fleet.core.phrases: the refusal's msgid
and values), worded in the reader's language; `error` stays, in English, for the API. Runs
failed before keep their sentence and no phrase (the pages show the sentence).

Revision ID: ingest_run_why
Revises: contractor_terms
Create Date: 2026-12-07 05:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'ingest_run_why'
down_revision: str | None = 'contractor_terms'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('ingest_run') as batch:
        batch.add_column(sa.Column('why', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('ingest_run') as batch:
        batch.drop_column('why')
