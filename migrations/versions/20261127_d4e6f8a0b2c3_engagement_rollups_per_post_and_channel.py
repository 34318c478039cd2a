"""engagement roll-ups per post and month and per channel, unit, campaign and month (the dashboard reads these)

Revision ID: d4e6f8a0b2c3
Revises: c3d5e7f9a1b2
Create Date: 2026-11-27 06:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd4e6f8a0b2c3'
down_revision = 'c3d5e7f9a1b2'
branch_labels = None
depends_on = None

MEASURES = ['views', 'reactions', 'comments', 'shares', 'watch_time']
POST_GAINS = ['post_id', 'campaign_id', 'views', 'reactions', 'comments', 'shares']
POST_COVERED = ['unit_id', *POST_GAINS]


def _measures():
    return [sa.Column(name, sa.BigInteger(), nullable=False) for name in MEASURES]


def upgrade():
    op.create_table(
        'engagement_post_monthly',
        sa.Column('post_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=True),
        *_measures(),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'],
                                name=op.f('fk_engagement_post_monthly_campaign_id_campaigns'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_engagement_post_monthly_post_id_posts'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('post_id', 'month', name=op.f('pk_engagement_post_monthly')),
    )
    with op.batch_alter_table('engagement_post_monthly', schema=None) as batch_op:
        batch_op.create_index('ix_engagement_post_monthly_period', ['month'], unique=False,
                              postgresql_include=POST_COVERED)
        batch_op.create_index('ix_engagement_post_monthly_unit_period', ['unit_id', 'month'], unique=False,
                              postgresql_include=POST_GAINS)
    op.create_table(
        'engagement_channel_monthly',
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('channel_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('campaign_key', sa.Integer(), nullable=False),
        *_measures(),
        sa.ForeignKeyConstraint(['channel_id'], ['channels.id'],
                                name=op.f('fk_engagement_channel_monthly_channel_id_channels'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('month', 'channel_id', 'unit_id', 'campaign_key',
                                name=op.f('pk_engagement_channel_monthly')),
    )
    # existing figures: sums of the per-delivery monthly rows
    sums = ', '.join(f'sum({name})' for name in MEASURES)
    columns = ', '.join(MEASURES)
    op.execute(f"INSERT INTO engagement_post_monthly (post_id, month, unit_id, campaign_id, {columns}) "
               f"SELECT post_id, month, min(unit_id), min(campaign_id), {sums} FROM engagement_monthly "
               f"GROUP BY post_id, month")
    op.execute(f"INSERT INTO engagement_channel_monthly (month, channel_id, unit_id, campaign_key, {columns}) "
               f"SELECT month, channel_id, unit_id, coalesce(campaign_id, 0), {sums} FROM engagement_monthly "
               f"GROUP BY month, channel_id, unit_id, coalesce(campaign_id, 0)")


def downgrade():
    op.drop_table('engagement_channel_monthly')
    with op.batch_alter_table('engagement_post_monthly', schema=None) as batch_op:
        batch_op.drop_index('ix_engagement_post_monthly_unit_period', postgresql_include=POST_GAINS)
        batch_op.drop_index('ix_engagement_post_monthly_period', postgresql_include=POST_COVERED)
    op.drop_table('engagement_post_monthly')
