"""relations a curator marks functional (one tail per head) or symmetric (holds both ways)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('relation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('functional', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('symmetric', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('relation', schema=None) as batch_op:
        batch_op.drop_column('symmetric')
        batch_op.drop_column('functional')
