"""Every area's models, imported together so that the metadata (Alembic, tests) sees the whole schema."""

from publisher.accounts.models import ApiToken, Unit, User  # noqa: F401
from publisher.audit import AuditEntry  # noqa: F401
from publisher.channels.models import Channel  # noqa: F401
from publisher.content.models import Campaign, MediaItem, Post, PostMedia, PostRevision, Variant  # noqa: F401
from publisher.hierarchy.models import AdoptedPost, Kit, KitPost, KitRecipient  # noqa: F401
from publisher.scheduler.models import Delivery, DeliveryAttempt, Webhook, WebhookEvent  # noqa: F401
