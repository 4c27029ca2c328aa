"""a fact a curator takes back is kept as retracted (who, when and why in its audit event), not deleted

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('triple', schema=None) as batch_op:
        batch_op.drop_constraint('status', type_='check')
        batch_op.create_check_constraint('status', "status IN ('accepted', 'suggested', 'rejected', 'retracted')")


def downgrade() -> None:
    op.execute("UPDATE triple SET status = 'rejected' WHERE status = 'retracted'")
    with op.batch_alter_table('triple', schema=None) as batch_op:
        batch_op.drop_constraint('status', type_='check')
        batch_op.create_check_constraint('status', "status IN ('accepted', 'suggested', 'rejected')")
