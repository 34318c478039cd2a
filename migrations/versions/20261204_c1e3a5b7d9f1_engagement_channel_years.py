"""engagement: per-channel yearly roll-up (a calendar year's breakdowns per channel and per unit read one row per
channel), filled from the per-channel months already stored

Revision ID: c1e3a5b7d9f1
Revises: b9d1f3a5c7e9
Create Date: 2026-12-04 19:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c1e3a5b7d9f1'
down_revision = 'b9d1f3a5c7e9'
branch_labels = None
depends_on = None

MEASURES = ['views', 'reactions', 'comments', 'shares', 'watch_time']


def upgrade():
    op.create_table(
        'engagement_channel_yearly',
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('channel_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        *[sa.Column(name, sa.BigInteger(), nullable=False) for name in MEASURES],
        sa.ForeignKeyConstraint(['channel_id'], ['channels.id'],
                                name=op.f('fk_engagement_channel_yearly_channel_id_channels'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('year', 'channel_id', 'unit_id', name=op.f('pk_engagement_channel_yearly')),
    )
    with op.batch_alter_table('engagement_channel_yearly', schema=None) as batch_op:
        batch_op.create_index('ix_engagement_channel_yearly_unit', ['unit_id', 'year'], unique=False)
    year = ("CAST(EXTRACT(YEAR FROM month) AS INTEGER)" if op.get_bind().dialect.name == "postgresql"
            else "CAST(strftime('%Y', month) AS INTEGER)")
    sums = ', '.join(f'sum({name})' for name in MEASURES)
    op.execute(f"INSERT INTO engagement_channel_yearly (year, channel_id, unit_id, {', '.join(MEASURES)}) "
               f"SELECT {year}, channel_id, unit_id, {sums} FROM engagement_channel_monthly "
               f"GROUP BY {year}, channel_id, unit_id")


def downgrade():
    with op.batch_alter_table('engagement_channel_yearly', schema=None) as batch_op:
        batch_op.drop_index('ix_engagement_channel_yearly_unit')
    op.drop_table('engagement_channel_yearly')
