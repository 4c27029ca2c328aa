"""the review queue's order as an index: (status, confidence, id). A page of the queue and its count read their
rows off it, backwards, instead of sorting every pending suggestion (only suggestions of one confidence are
sorted, by id). The queue orders by the column itself, which the index can serve, so a triple waiting for a
verdict without a confidence (an import could leave one) gets 0, where the queue used to place it.

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
    # an imported suggestion could come without a confidence; the queue read it as 0, and now reads the column
    op.execute("UPDATE triple SET confidence = 0.0 WHERE confidence IS NULL AND status IN ('suggested', 'disputed')")
    op.create_index('ix_triple_queue_order', 'triple', ['status', 'confidence', 'id'])


def downgrade() -> None:
    op.drop_index('ix_triple_queue_order', table_name='triple')
