"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=64), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_actor'), ['actor'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_at'), ['at'], unique=False)

    op.create_table('document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=1024), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document'))
    )
    op.create_table('entity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=512), nullable=False),
    sa.Column('label', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('type', sa.String(length=256), nullable=True),
    sa.Column('aliases', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entity')),
    sa.UniqueConstraint('name', name=op.f('uq_entity_name'))
    )
    with op.batch_alter_table('entity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entity_type'), ['type'], unique=False)

    op.create_table('model_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('backbone', sa.String(length=512), nullable=False),
    sa.Column('hyperparameters', sa.JSON(), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('n_examples', sa.Integer(), nullable=False),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('progress', sa.Float(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('checkpoint_path', sa.String(length=1024), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')", name=op.f('ck_model_version_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_model_version')),
    sa.UniqueConstraint('name', name=op.f('uq_model_version_name'))
    )
    op.create_table('relation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=512), nullable=False),
    sa.Column('label', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('head_type', sa.String(length=256), nullable=True),
    sa.Column('tail_type', sa.String(length=256), nullable=True),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_relation')),
    sa.UniqueConstraint('name', name=op.f('uq_relation_name'))
    )
    op.create_table('sentence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('tokens', sa.JSON(), nullable=False),
    sa.Column('text_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_sentence_document_id_document'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sentence')),
    sa.UniqueConstraint('text_sha256', name=op.f('uq_sentence_text_sha256'))
    )
    with op.batch_alter_table('sentence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sentence_document_id'), ['document_id'], unique=False)

    op.create_table('triple',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('head_id', sa.Integer(), nullable=False),
    sa.Column('relation_id', sa.Integer(), nullable=False),
    sa.Column('tail_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('model_version_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reviewed_by', sa.String(length=128), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("source IN ('imported', 'curator', 'model')", name=op.f('ck_triple_source')),
    sa.CheckConstraint("status IN ('accepted', 'suggested', 'rejected')", name=op.f('ck_triple_status')),
    sa.ForeignKeyConstraint(['head_id'], ['entity.id'], name=op.f('fk_triple_head_id_entity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['model_version_id'], ['model_version.id'], name=op.f('fk_triple_model_version_id_model_version'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['relation_id'], ['relation.id'], name=op.f('fk_triple_relation_id_relation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tail_id'], ['entity.id'], name=op.f('fk_triple_tail_id_entity'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_triple')),
    sa.UniqueConstraint('head_id', 'relation_id', 'tail_id', name='uq_triple_hrt')
    )
    with op.batch_alter_table('triple', schema=None) as batch_op:
        batch_op.create_index('ix_triple_status_relation', ['status', 'relation_id'], unique=False)
        batch_op.create_index('ix_triple_tail', ['tail_id'], unique=False)

    op.create_table('example',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('relation_id', sa.Integer(), nullable=True),
    sa.Column('label', sa.Boolean(), nullable=False),
    sa.Column('head_id', sa.Integer(), nullable=True),
    sa.Column('tail_id', sa.Integer(), nullable=True),
    sa.Column('sentence_id', sa.Integer(), nullable=True),
    sa.Column('head_start', sa.Integer(), nullable=True),
    sa.Column('head_end', sa.Integer(), nullable=True),
    sa.Column('tail_start', sa.Integer(), nullable=True),
    sa.Column('tail_end', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('triple', 'sentence')", name=op.f('ck_example_kind')),
    sa.ForeignKeyConstraint(['head_id'], ['entity.id'], name=op.f('fk_example_head_id_entity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['relation_id'], ['relation.id'], name=op.f('fk_example_relation_id_relation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sentence_id'], ['sentence.id'], name=op.f('fk_example_sentence_id_sentence'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tail_id'], ['entity.id'], name=op.f('fk_example_tail_id_entity'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_example')),
    sa.UniqueConstraint('sentence_id', 'head_start', 'head_end', 'tail_start', 'tail_end', name='uq_example_sentence_spans')
    )
    with op.batch_alter_table('example', schema=None) as batch_op:
        batch_op.create_index('ix_example_relation', ['relation_id'], unique=False)
        batch_op.create_index('uq_example_triple', ['head_id', 'relation_id', 'tail_id'], unique=True, sqlite_where=sa.text("kind = 'triple'"), postgresql_where=sa.text("kind = 'triple'"))



def downgrade() -> None:
    with op.batch_alter_table('example', schema=None) as batch_op:
        batch_op.drop_index('uq_example_triple', sqlite_where=sa.text("kind = 'triple'"), postgresql_where=sa.text("kind = 'triple'"))
        batch_op.drop_index('ix_example_relation')

    op.drop_table('example')
    with op.batch_alter_table('triple', schema=None) as batch_op:
        batch_op.drop_index('ix_triple_tail')
        batch_op.drop_index('ix_triple_status_relation')

    op.drop_table('triple')
    with op.batch_alter_table('sentence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sentence_document_id'))

    op.drop_table('sentence')
    op.drop_table('relation')
    op.drop_table('model_version')
    with op.batch_alter_table('entity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entity_type'))

    op.drop_table('entity')
    op.drop_table('document')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_at'))
        batch_op.drop_index(batch_op.f('ix_audit_event_actor'))

    op.drop_table('audit_event')
