"""team review: every curator's verdict, claims for "my next items", project settings (the overlap), disputed

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'verdict',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('triple_id', sa.Integer(), nullable=False),
        sa.Column('curator', sa.String(length=128), nullable=False),
        sa.Column('decision', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.String(length=64), nullable=True),
        sa.Column('comment', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("decision IN ('accepted', 'rejected')", name=op.f('ck_verdict_decision')),
        sa.ForeignKeyConstraint(['triple_id'], ['triple.id'], name=op.f('fk_verdict_triple_id_triple'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_verdict')),
        sa.UniqueConstraint('triple_id', 'curator', name='uq_verdict_triple_curator'),
    )
    op.create_index(op.f('ix_verdict_triple_id'), 'verdict', ['triple_id'], unique=False)
    op.create_index(op.f('ix_verdict_curator'), 'verdict', ['curator'], unique=False)
    op.create_table(
        'review_claim',
        sa.Column('triple_id', sa.Integer(), nullable=False),
        sa.Column('curator', sa.String(length=128), nullable=False),
        sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['triple_id'], ['triple.id'], name=op.f('fk_review_claim_triple_id_triple'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('triple_id', 'curator', name=op.f('pk_review_claim')),
    )
    op.create_index(op.f('ix_review_claim_claimed_at'), 'review_claim', ['claimed_at'], unique=False)
    op.create_table(
        'project_setting',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('value', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_project_setting')),
    )
    with op.batch_alter_table('triple', schema=None) as batch_op:
        batch_op.drop_constraint('status', type_='check')
        batch_op.create_check_constraint(
            'status', "status IN ('accepted', 'suggested', 'rejected', 'retracted', 'disputed')")


def downgrade() -> None:
    op.execute("UPDATE triple SET status = 'suggested' WHERE status = 'disputed'")
    with op.batch_alter_table('triple', schema=None) as batch_op:
        batch_op.drop_constraint('status', type_='check')
        batch_op.create_check_constraint('status', "status IN ('accepted', 'suggested', 'rejected', 'retracted')")
    op.drop_table('project_setting')
    op.drop_index(op.f('ix_review_claim_claimed_at'), table_name='review_claim')
    op.drop_table('review_claim')
    op.drop_index(op.f('ix_verdict_curator'), table_name='verdict')
    op.drop_index(op.f('ix_verdict_triple_id'), table_name='verdict')
    op.drop_table('verdict')
