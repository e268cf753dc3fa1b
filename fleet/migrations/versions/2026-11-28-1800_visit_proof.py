"""visit proof: where the phone was when an outcome was recorded, and the far-away flag

Revision ID: visit_proof
Revises: 5c1f0e2a9b7d
Create Date: 2026-11-28 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'visit_proof'
down_revision: str | None = '5c1f0e2a9b7d'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('proof_lat', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('proof_lng', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('proof_accuracy_m', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('proof_distance_m', sa.Integer(), nullable=True))
        # Visits recorded before proof existed are not flagged.
        batch_op.add_column(
            sa.Column('proof_flagged', sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_index(batch_op.f('ix_visit_proof_flagged'), ['proof_flagged'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_proof_flagged'))
        batch_op.drop_column('proof_flagged')
        batch_op.drop_column('proof_distance_m')
        batch_op.drop_column('proof_accuracy_m')
        batch_op.drop_column('proof_lng')
        batch_op.drop_column('proof_lat')
