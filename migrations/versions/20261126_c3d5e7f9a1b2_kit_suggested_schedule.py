"""campaign kits carry a suggested publish time per post

Revision ID: c3d5e7f9a1b2
Revises: b2c4d6e8f0a1
Create Date: 2026-11-26 17:30:00

"""
import sqlalchemy as sa
from alembic import op

import publisher.db

# revision identifiers, used by Alembic.
revision = 'c3d5e7f9a1b2'
down_revision = 'b2c4d6e8f0a1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('kit_posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suggested_at', publisher.db.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('kit_posts', schema=None) as batch_op:
        batch_op.drop_column('suggested_at')
