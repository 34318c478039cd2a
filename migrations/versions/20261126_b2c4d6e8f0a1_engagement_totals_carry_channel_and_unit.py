"""engagement totals carry their delivery's channel and unit (freshness per channel without a join)

Revision ID: b2c4d6e8f0a1
Revises: 9f375e594f20
Create Date: 2026-11-26 17:35:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b2c4d6e8f0a1'
down_revision = '9f375e594f20'
branch_labels = None
depends_on = None

INCLUDE = ['unit_id', 'collected_at', 'removed', 'next_due_at']


def upgrade():
    with op.batch_alter_table('engagement_totals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('unit_id', sa.Integer(), nullable=True))
    # existing rows: copy from their delivery
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("UPDATE engagement_totals t SET channel_id = d.channel_id, unit_id = d.unit_id "
                   "FROM deliveries d WHERE d.id = t.delivery_id")
    else:
        op.execute("UPDATE engagement_totals SET "
                   "channel_id = (SELECT d.channel_id FROM deliveries d WHERE d.id = engagement_totals.delivery_id), "
                   "unit_id = (SELECT d.unit_id FROM deliveries d WHERE d.id = engagement_totals.delivery_id)")
    with op.batch_alter_table('engagement_totals', schema=None) as batch_op:
        batch_op.alter_column('channel_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('unit_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index('ix_engagement_totals_channel', ['channel_id'], unique=False,
                              postgresql_include=INCLUDE)


def downgrade():
    with op.batch_alter_table('engagement_totals', schema=None) as batch_op:
        batch_op.drop_index('ix_engagement_totals_channel', postgresql_include=INCLUDE)
        batch_op.drop_column('unit_id')
        batch_op.drop_column('channel_id')
