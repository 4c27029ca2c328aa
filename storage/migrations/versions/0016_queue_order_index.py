"""the review queue's order as an index: (status, confidence, id). A page of the queue and its count read their
rows off it, backwards, instead of sorting every pending suggestion (only suggestions of one confidence are
sorted, by id); suggestions always carry a confidence, so the queue orders by the column itself, which the index
can serve.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""
from alembic import op


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_triple_queue_order', 'triple', ['status', 'confidence', 'id'])


def downgrade() -> None:
    op.drop_index('ix_triple_queue_order', table_name='triple')
