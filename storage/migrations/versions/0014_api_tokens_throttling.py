"""the HTTP API's tokens (hashed, revocable), failed logins shared by the app and the API, and the answers
given to requests with an idempotency key

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'api_token',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('actor', sa.String(length=128), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_by', sa.String(length=128), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash')),
    )
    op.create_index(op.f('ix_api_token_name'), 'api_token', ['name'], unique=False)
    op.create_table(
        'login_attempts',
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('blocked_until', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_login_attempts')),
    )
    op.create_table(
        'idempotent_request',
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('actor', sa.String(length=128), nullable=False),
        sa.Column('request', sa.String(length=300), nullable=False),
        sa.Column('status_code', sa.Integer(), nullable=False),
        sa.Column('body', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key', 'actor', name=op.f('pk_idempotent_request')),
    )
    op.create_index(op.f('ix_idempotent_request_created_at'), 'idempotent_request', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_idempotent_request_created_at'), table_name='idempotent_request')
    op.drop_table('idempotent_request')
    op.drop_table('login_attempts')
    op.drop_index(op.f('ix_api_token_name'), table_name='api_token')
    op.drop_table('api_token')
