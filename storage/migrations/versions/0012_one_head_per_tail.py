"""relations a curator marks one head per tail (a book has one author, an author many books)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('relation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('one_head_per_tail', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('relation', schema=None) as batch_op:
        batch_op.drop_column('one_head_per_tail')
