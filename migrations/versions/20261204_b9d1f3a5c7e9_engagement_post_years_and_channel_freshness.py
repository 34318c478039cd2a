"""engagement: per-post yearly roll-up (a year's top posts from an index) and each channel's freshness (the
dashboards join one row per channel instead of aggregating every delivery's totals), both filled from the
figures already stored

Revision ID: b9d1f3a5c7e9
Revises: a8c0e2f4b6d8
Create Date: 2026-12-04 18:40:00

"""
import sqlalchemy as sa
from alembic import op

import publisher.db  # noqa: F401  (UTCDateTime)

# revision identifiers, used by Alembic.
revision = 'b9d1f3a5c7e9'
down_revision = 'a8c0e2f4b6d8'
branch_labels = None
depends_on = None

MEASURES = ['views', 'reactions', 'comments', 'shares', 'watch_time']
POST_GAINS = ['post_id', 'campaign_id', 'views', 'reactions', 'comments', 'shares']
POST_COVERED = ['unit_id', *POST_GAINS]


def upgrade():
    op.create_table(
        'engagement_post_yearly',
        sa.Column('post_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=True),
        *[sa.Column(name, sa.BigInteger(), nullable=False) for name in MEASURES],
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'],
                                name=op.f('fk_engagement_post_yearly_campaign_id_campaigns'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_engagement_post_yearly_post_id_posts'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('post_id', 'year', name=op.f('pk_engagement_post_yearly')),
    )
    with op.batch_alter_table('engagement_post_yearly', schema=None) as batch_op:
        batch_op.create_index('ix_engagement_post_yearly_top', ['year', 'views'], unique=False,
                              postgresql_include=POST_COVERED)
        batch_op.create_index('ix_engagement_post_yearly_unit_top', ['unit_id', 'year', 'views'], unique=False,
                              postgresql_include=POST_GAINS)
    op.create_table(
        'engagement_channel_freshness',
        sa.Column('channel_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('oldest', publisher.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('newest', publisher.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('failing', sa.Integer(), nullable=False),
        sa.Column('removed', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['channel_id'], ['channels.id'],
                                name=op.f('fk_engagement_channel_freshness_channel_id_channels'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('channel_id', name=op.f('pk_engagement_channel_freshness')),
    )
    # existing figures: the years from the per-post months, the freshness from the deliveries' totals
    year = ("CAST(EXTRACT(YEAR FROM month) AS INTEGER)" if op.get_bind().dialect.name == "postgresql"
            else "CAST(strftime('%Y', month) AS INTEGER)")
    sums = ', '.join(f'sum({name})' for name in MEASURES)
    columns = ', '.join(MEASURES)
    op.execute(f"INSERT INTO engagement_post_yearly (post_id, year, unit_id, campaign_id, {columns}) "
               f"SELECT post_id, {year}, min(unit_id), min(campaign_id), {sums} FROM engagement_post_monthly "
               f"GROUP BY post_id, {year}")
    op.execute("INSERT INTO engagement_channel_freshness (channel_id, unit_id, oldest, newest, failing, removed) "
               "SELECT channel_id, min(unit_id), min(collected_at), max(collected_at), count(last_error), "
               "sum(CASE WHEN removed THEN 1 ELSE 0 END) FROM engagement_totals GROUP BY channel_id")


def downgrade():
    op.drop_table('engagement_channel_freshness')
    with op.batch_alter_table('engagement_post_yearly', schema=None) as batch_op:
        batch_op.drop_index('ix_engagement_post_yearly_unit_top', postgresql_include=POST_GAINS)
        batch_op.drop_index('ix_engagement_post_yearly_top', postgresql_include=POST_COVERED)
    op.drop_table('engagement_post_yearly')
