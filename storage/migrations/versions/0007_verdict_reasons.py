"""why a suggestion was rejected (a fixed list) and a curator's comment on any verdict

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('triple', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('comment', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('triple', schema=None) as batch_op:
        batch_op.drop_column('comment')
        batch_op.drop_column('reason')
