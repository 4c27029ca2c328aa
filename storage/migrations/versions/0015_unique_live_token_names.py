"""a token's name is unique among the tokens not revoked, in the database: two `token add` calls with one name
at the same moment both passed the service's look-up before. Where a database already holds live tokens that
share a name, all but the newest of each are revoked first (the index could not be made otherwise).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

LIVE = sa.text("revoked_at IS NULL")


def upgrade() -> None:
    op.execute(
        "UPDATE api_token SET revoked_at = CURRENT_TIMESTAMP WHERE revoked_at IS NULL AND id NOT IN "
        "(SELECT MAX(id) FROM api_token WHERE revoked_at IS NULL GROUP BY name)"
    )
    op.create_index('uq_api_token_live_name', 'api_token', ['name'], unique=True,
                    sqlite_where=LIVE, postgresql_where=LIVE)


def downgrade() -> None:
    op.drop_index('uq_api_token_live_name', table_name='api_token')
