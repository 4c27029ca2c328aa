"""a suggestion's margin (the uncertainty order) and its separate opinions (text model, graph model, sentences)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('triple', schema=None) as batch_op:
        batch_op.add_column(sa.Column('margin', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('opinions', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('triple', schema=None) as batch_op:
        batch_op.drop_column('opinions')
        batch_op.drop_column('margin')
