"""the lab's Ceph: its objects and what each OSD misses, shared by every process

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-04 19:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None

BYTES = sa.LargeBinary().with_variant(mysql.LONGBLOB(), 'mysql')


def upgrade() -> None:
    op.create_table('ceph_object',
    sa.Column('pool', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('data', BYTES, nullable=False),
    sa.PrimaryKeyConstraint('pool', 'name', 'seq', name=op.f('pk_ceph_object'))
    )
    op.create_table('ceph_missing',
    sa.Column('osd', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('pool', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.PrimaryKeyConstraint('osd', 'pool', 'name', name=op.f('pk_ceph_missing'))
    )


def downgrade() -> None:
    op.drop_table('ceph_missing')
    op.drop_table('ceph_object')
