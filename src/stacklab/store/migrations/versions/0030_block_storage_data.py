"""block storage: the LVM backends' bytes and the backups' objects

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-04 16:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None

BYTES = sa.LargeBinary().with_variant(mysql.LONGBLOB(), 'mysql')


def upgrade() -> None:
    op.create_table('block_storage_volume_data',
    sa.Column('backend', sa.String(length=255), nullable=False),
    sa.Column('ident', sa.String(length=255), nullable=False),
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('data', BYTES, nullable=False),
    sa.PrimaryKeyConstraint('backend', 'ident', 'seq',
                            name=op.f('pk_block_storage_volume_data'))
    )
    op.create_table('block_storage_backup_object',
    sa.Column('container', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('data', BYTES, nullable=False),
    sa.PrimaryKeyConstraint('container', 'name', 'seq',
                            name=op.f('pk_block_storage_backup_object'))
    )


def downgrade() -> None:
    op.drop_table('block_storage_backup_object')
    op.drop_table('block_storage_volume_data')
