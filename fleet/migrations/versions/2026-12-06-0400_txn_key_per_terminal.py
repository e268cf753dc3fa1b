"""txn key per terminal: a transaction is its acquirer reference with its terminal

An uploader may only send lines for their own branches' units; with the reference alone as the
key, a line for their own unit could take a reference that another branch's genuine line
carries, making that line a duplicate (and telling the uploader it exists).

Revision ID: txn_key_per_terminal
Revises: revoked_tokens
Create Date: 2026-12-06 04:15:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'txn_key_per_terminal'
down_revision: str | None = 'revoked_tokens'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('txn', schema=None) as batch_op:
        batch_op.drop_constraint('uq_txn_txn_ref', type_='unique')
        batch_op.create_unique_constraint('uq_txn_txn_ref', ['txn_ref', 'terminal_id'])


def downgrade() -> None:
    with op.batch_alter_table('txn', schema=None) as batch_op:
        batch_op.drop_constraint('uq_txn_txn_ref', type_='unique')
        batch_op.create_unique_constraint('uq_txn_txn_ref', ['txn_ref'])
