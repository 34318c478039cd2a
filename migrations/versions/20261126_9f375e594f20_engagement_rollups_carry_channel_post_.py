"""engagement roll-ups carry channel, post, unit and campaign (reports read them without joins)

Revision ID: 9f375e594f20
Revises: 703a0edf1271
Create Date: 2026-11-26 15:19:58.929191

"""
import sqlalchemy as sa
from alembic import op

import publisher.db  # noqa: F401  (UTCDateTime)

# revision identifiers, used by Alembic.
revision = '9f375e594f20'
down_revision = '703a0edf1271'
branch_labels = None
depends_on = None

GAINS = ['channel_id', 'post_id', 'campaign_id', 'views', 'reactions', 'comments', 'shares']
COVERED = ['unit_id', *GAINS]
OLD_COVERED = ['delivery_id', 'views', 'reactions', 'comments', 'shares']
TABLES = (('engagement_daily', 'day'), ('engagement_monthly', 'month'))


def upgrade():
    for table, period in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('channel_id', sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column('post_id', sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column('unit_id', sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column('campaign_id', sa.Integer(), nullable=True))
        # existing rows: copy from their delivery and its post
        if op.get_bind().dialect.name == 'postgresql':
            op.execute(f"UPDATE {table} t SET channel_id = d.channel_id, post_id = d.post_id, unit_id = d.unit_id, "
                       f"campaign_id = p.campaign_id FROM deliveries d JOIN posts p ON p.id = d.post_id "
                       f"WHERE d.id = t.delivery_id")
        else:
            op.execute(f"UPDATE {table} SET channel_id = (SELECT d.channel_id FROM deliveries d WHERE d.id = {table}.delivery_id), "
                       f"post_id = (SELECT d.post_id FROM deliveries d WHERE d.id = {table}.delivery_id), "
                       f"unit_id = (SELECT d.unit_id FROM deliveries d WHERE d.id = {table}.delivery_id), "
                       f"campaign_id = (SELECT p.campaign_id FROM deliveries d JOIN posts p ON p.id = d.post_id "
                       f"WHERE d.id = {table}.delivery_id)")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('channel_id', existing_type=sa.Integer(), nullable=False)
            batch_op.alter_column('post_id', existing_type=sa.Integer(), nullable=False)
            batch_op.alter_column('unit_id', existing_type=sa.Integer(), nullable=False)
            batch_op.drop_index(f'ix_{table}_period', postgresql_include=OLD_COVERED)
            batch_op.create_index(f'ix_{table}_period', [period], unique=False, postgresql_include=COVERED)
            batch_op.create_index(f'ix_{table}_unit_period', ['unit_id', period], unique=False,
                                  postgresql_include=GAINS)
            batch_op.create_foreign_key(batch_op.f(f'fk_{table}_campaign_id_campaigns'), 'campaigns',
                                        ['campaign_id'], ['id'], ondelete='SET NULL')


def downgrade():
    for table, period in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'fk_{table}_campaign_id_campaigns'), type_='foreignkey')
            batch_op.drop_index(f'ix_{table}_unit_period', postgresql_include=GAINS)
            batch_op.drop_index(f'ix_{table}_period', postgresql_include=COVERED)
            batch_op.create_index(f'ix_{table}_period', [period], unique=False, postgresql_include=OLD_COVERED)
            batch_op.drop_column('campaign_id')
            batch_op.drop_column('unit_id')
            batch_op.drop_column('post_id')
            batch_op.drop_column('channel_id')
