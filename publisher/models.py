"""Every area's models, imported together so that the metadata (Alembic, tests) sees the whole schema."""

import publisher.content.queries  # noqa: F401,E402  (keeps Post.search_text up to date)
from publisher.accounts.models import ApiToken, Unit, User  # noqa: F401
from publisher.accounts.throttle import LoginFailure  # noqa: F401
from publisher.audit import AuditEntry  # noqa: F401
from publisher.channels.models import Channel  # noqa: F401
from publisher.channels.youtube_quota import YouTubeQuotaUsage  # noqa: F401
from publisher.content.models import Campaign, MediaItem, Post, PostMedia, PostRevision, Variant  # noqa: F401
from publisher.engagement.models import (  # noqa: F401
    EngagementChannelFreshness,
    EngagementChannelYearly,
    EngagementDaily,
    EngagementMonthly,
    EngagementPostYearly,
    EngagementSnapshot,
    EngagementTotals,
    InboxComment,
)
from publisher.feeds.models import Item, Source  # noqa: F401
from publisher.hierarchy.models import AdoptedPost, Kit, KitPost, KitRecipient  # noqa: F401
from publisher.scheduler.models import Delivery, DeliveryAttempt, Webhook, WebhookEvent  # noqa: F401
from publisher.website.models import Article, ArticleViewDay, ReaderComment  # noqa: F401
