"""image: the locations added with the 2.17 locations API

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 12:35:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing images have no location: the server default fills their rows.
    with op.batch_alter_table('image_image', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locations', sa.JSON(), nullable=False,
                                      server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('image_image', schema=None) as batch_op:
        batch_op.drop_column('locations')
