"""engagement totals: indexes for a few channels' freshness by index probes (issue #18)

Revision ID: f1a3c5e7b9d2
Revises: e7a9c1b3d5f7
Create Date: 2026-12-02 14:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f1a3c5e7b9d2'
down_revision = 'e7a9c1b3d5f7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('engagement_totals', schema=None) as batch_op:
        batch_op.create_index('ix_engagement_totals_channel_collected', ['channel_id', 'collected_at'], unique=False,
                              postgresql_include=['unit_id'])
        batch_op.create_index('ix_engagement_totals_channel_failing', ['channel_id', 'unit_id'], unique=False,
                              postgresql_where=sa.text('last_error IS NOT NULL'),
                              sqlite_where=sa.text('last_error IS NOT NULL'))
        batch_op.create_index('ix_engagement_totals_channel_removed', ['channel_id', 'unit_id'], unique=False,
                              postgresql_where=sa.text('removed'), sqlite_where=sa.text('removed'))


def downgrade():
    with op.batch_alter_table('engagement_totals', schema=None) as batch_op:
        batch_op.drop_index('ix_engagement_totals_channel_removed')
        batch_op.drop_index('ix_engagement_totals_channel_failing')
        batch_op.drop_index('ix_engagement_totals_channel_collected')
