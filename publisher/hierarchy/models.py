"""Campaign kits: posts a unit pushes down to the units below it, and what each receiving unit made of them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from publisher.accounts.models import Unit
from publisher.content.models import Campaign, Post
from publisher.db import db, utcnow


class Kit(db.Model):
    __tablename__ = "kits"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    sender_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    deadline: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    campaign: Mapped[Campaign] = relationship()
    sender_unit: Mapped[Unit] = relationship()
    items: Mapped[list[KitPost]] = relationship(cascade="all, delete-orphan", order_by="KitPost.position",
                                                lazy="selectin")
    recipients: Mapped[list[KitRecipient]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def post_ids(self) -> list[int]:
        return [item.post_id for item in self.items]

    @property
    def unit_ids(self) -> list[int]:
        return sorted(r.unit_id for r in self.recipients)

    @property
    def schedule(self) -> list[KitPost]:
        """The kit's posts that carry a suggested publish time, in the kit's order."""
        return [item for item in self.items if item.suggested_at is not None]

    def __repr__(self) -> str:
        return f"<Kit {self.id} campaign={self.campaign_id} from={self.sender_unit_id}>"


class KitPost(db.Model):
    __tablename__ = "kit_posts"

    kit_id: Mapped[int] = mapped_column(ForeignKey("kits.id", ondelete="CASCADE"), primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)
    # When the sender suggests the receiving units publish this post (UTC); None: no suggestion.
    suggested_at: Mapped[datetime | None]

    post: Mapped[Post] = relationship(lazy="selectin")

    def __repr__(self) -> str:
        return f"<KitPost kit={self.kit_id} post={self.post_id} at={self.suggested_at}>"


class KitRecipient(db.Model):
    __tablename__ = "kit_recipients"
    __table_args__ = (UniqueConstraint("kit_id", "unit_id", name="uq_kit_recipients_kit_unit"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kit_id: Mapped[int] = mapped_column(ForeignKey("kits.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    adopted_at: Mapped[datetime | None]
    adopted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    unit: Mapped[Unit] = relationship(lazy="joined")


class AdoptedPost(db.Model):
    """A receiving unit's draft copied from a kit's post: the link from the copy to its original."""

    __tablename__ = "adopted_posts"
    __table_args__ = (UniqueConstraint("kit_id", "unit_id", "original_post_id", name="uq_adopted_posts_once"),)

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    kit_id: Mapped[int] = mapped_column(ForeignKey("kits.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    original_post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)

    post: Mapped[Post] = relationship(foreign_keys=[post_id])
    original: Mapped[Post] = relationship(foreign_keys=[original_post_id])
    # The kit's entry for the original: where its suggested publish time lives.
    kit_post: Mapped[KitPost | None] = relationship(
        primaryjoin="and_(AdoptedPost.kit_id == foreign(KitPost.kit_id), "
                    "AdoptedPost.original_post_id == foreign(KitPost.post_id))",
        viewonly=True, uselist=False)

    @property
    def suggested_at(self) -> datetime | None:
        """When the sender suggested publishing the original (UTC), shown to the receiving unit; None: no
        suggestion."""
        return self.kit_post.suggested_at if self.kit_post is not None else None

    def __repr__(self) -> str:
        return f"<AdoptedPost {self.post_id} <- {self.original_post_id} kit={self.kit_id}>"
