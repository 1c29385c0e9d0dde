"""block storage: each backend's used bytes

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-04 16:35:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('block_storage_pool_usage',
    sa.Column('backend', sa.String(length=255), nullable=False),
    sa.Column('used_bytes', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('backend', name=op.f('pk_block_storage_pool_usage'))
    )
    # What 0030's entries already hold.
    op.execute("INSERT INTO block_storage_pool_usage (backend, used_bytes) "
               "SELECT backend, SUM(size) FROM block_storage_volume_data GROUP BY backend")


def downgrade() -> None:
    op.drop_table('block_storage_pool_usage')
