"""spot checks: a frozen slice of the queue, its stratified sample, and the precision a curator signed off when
accepting the rest; each triple accepted so records which

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'spot_check',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('slice', sa.JSON(), nullable=False),
        sa.Column('members', sa.JSON(), nullable=False),
        sa.Column('sample', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('created_by', sa.String(length=128), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('estimate', sa.JSON(), nullable=True),
        sa.Column('signed_off_by', sa.String(length=128), nullable=True),
        sa.Column('signed_off_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('open', 'accepted')", name=op.f('ck_spot_check_status')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_spot_check')),
    )
    with op.batch_alter_table('triple', schema=None) as batch_op:
        batch_op.add_column(sa.Column('spot_check_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_triple_spot_check_id_spot_check'), 'spot_check',
                                    ['spot_check_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('triple', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_triple_spot_check_id_spot_check'), type_='foreignkey')
        batch_op.drop_column('spot_check_id')
    op.drop_table('spot_check')
