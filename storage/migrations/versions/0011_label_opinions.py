"""label overlap: each curator's opinion on a label task, and a label's status (settled, pending, disputed)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('example', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=16), server_default='settled', nullable=False))
        batch_op.create_check_constraint('status', "status IN ('settled', 'pending', 'disputed')")
    op.create_table(
        'label_opinion',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('example_id', sa.Integer(), nullable=False),
        sa.Column('curator', sa.String(length=128), nullable=False),
        sa.Column('holds', sa.Boolean(), nullable=False),
        sa.Column('relation_id', sa.Integer(), nullable=True),
        sa.Column('comment', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['example_id'], ['example.id'], name=op.f('fk_label_opinion_example_id_example'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['relation_id'], ['relation.id'], name=op.f('fk_label_opinion_relation_id_relation'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_label_opinion')),
        sa.UniqueConstraint('example_id', 'curator', name='uq_label_opinion_example_curator'),
    )
    op.create_index(op.f('ix_label_opinion_example_id'), 'label_opinion', ['example_id'], unique=False)
    op.create_index(op.f('ix_label_opinion_curator'), 'label_opinion', ['curator'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_label_opinion_curator'), table_name='label_opinion')
    op.drop_index(op.f('ix_label_opinion_example_id'), table_name='label_opinion')
    op.drop_table('label_opinion')
    op.execute("DELETE FROM example WHERE status != 'settled'")
    with op.batch_alter_table('example', schema=None) as batch_op:
        batch_op.drop_constraint('status', type_='check')
        batch_op.drop_column('status')
