"""readers' comments keep the e-mail a reader gave, their consent, and when they were anonymised

Revision ID: e7a9c1b3d5f7
Revises: d4e6f8a0b2c3
Create Date: 2026-12-02 07:10:00

"""
import sqlalchemy as sa
from alembic import op

import publisher.db

# revision identifiers, used by Alembic.
revision = 'e7a9c1b3d5f7'
down_revision = 'd4e6f8a0b2c3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('website_comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('author_email', sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column('consent_at', publisher.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('consent_version', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('anonymised_at', publisher.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_website_comments_author_email'), ['author_email'], unique=False)


def downgrade():
    with op.batch_alter_table('website_comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_website_comments_author_email'))
        batch_op.drop_column('anonymised_at')
        batch_op.drop_column('consent_version')
        batch_op.drop_column('consent_at')
        batch_op.drop_column('author_email')
