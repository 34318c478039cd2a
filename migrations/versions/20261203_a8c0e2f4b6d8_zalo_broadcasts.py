"""zalo broadcasts: the broadcasts each Official Account sent, so that its quota survives a Redis flush (issue #17)

Revision ID: a8c0e2f4b6d8
Revises: f1a3c5e7b9d2
Create Date: 2026-12-03 09:40:00

"""
import sqlalchemy as sa
from alembic import op

import publisher.db  # noqa: F401  (UTCDateTime)

# revision identifiers, used by Alembic.
revision = 'a8c0e2f4b6d8'
down_revision = 'f1a3c5e7b9d2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('zalo_broadcasts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.String(length=64), nullable=False),
    sa.Column('message_id', sa.String(length=100), nullable=False),
    sa.Column('sent_at', publisher.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_zalo_broadcasts_channel_id_channels'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_zalo_broadcasts'))
    )
    with op.batch_alter_table('zalo_broadcasts', schema=None) as batch_op:
        batch_op.create_index('ix_zalo_broadcasts_channel_sent', ['channel_id', 'sent_at'], unique=False)


def downgrade():
    with op.batch_alter_table('zalo_broadcasts', schema=None) as batch_op:
        batch_op.drop_index('ix_zalo_broadcasts_channel_sent')
    op.drop_table('zalo_broadcasts')
