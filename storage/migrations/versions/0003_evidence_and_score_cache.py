"""suggestion evidence (sentences) and the per-model-version score cache

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('triple_id', sa.Integer(), nullable=False),
    sa.Column('sentence_id', sa.Integer(), nullable=False),
    sa.Column('head_start', sa.Integer(), nullable=False),
    sa.Column('head_end', sa.Integer(), nullable=False),
    sa.Column('tail_start', sa.Integer(), nullable=False),
    sa.Column('tail_end', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['sentence_id'], ['sentence.id'], name=op.f('fk_evidence_sentence_id_sentence'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['triple_id'], ['triple.id'], name=op.f('fk_evidence_triple_id_triple'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence')),
    sa.UniqueConstraint('triple_id', 'sentence_id', 'head_start', 'tail_start', name='uq_evidence_mention')
    )
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_triple_id'), ['triple_id'], unique=False)

    op.create_table('score_cache',
    sa.Column('model_version_id', sa.Integer(), nullable=False),
    sa.Column('input_sha256', sa.String(length=64), nullable=False),
    sa.Column('probabilities', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['model_version_id'], ['model_version.id'], name=op.f('fk_score_cache_model_version_id_model_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('model_version_id', 'input_sha256', name=op.f('pk_score_cache'))
    )


def downgrade() -> None:
    op.drop_table('score_cache')
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_triple_id'))
    op.drop_table('evidence')
