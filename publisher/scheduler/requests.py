"""Building the one dataclass every adapter takes from a post as it stands now (the scheduler builds it: adapters
never read posts)."""

from __future__ import annotations

from publisher.channels.base import MediaFile, PublishRequest, description
from publisher.content.media import media_path
from publisher.content.models import MediaItem, Post
from publisher.content.variants import channel_media
from publisher.settings import Settings


def media_file(item: MediaItem, settings: Settings) -> MediaFile:
    """A media item with absolute paths to its file and renditions."""
    renditions = {name: media_path(settings.media_dir, info["path"]) for name, info in (item.renditions or {}).items()
                  if isinstance(info, dict) and info.get("path")}
    return MediaFile(media_id=item.id, kind=item.kind, path=media_path(settings.media_dir, item.path),
                     content_type=item.content_type, size_bytes=item.size_bytes, caption=item.caption or "",
                     alt_text=item.alt_text or "", renditions=renditions)


def publish_request_for(post: Post, kind: str, idempotency_key: str, settings: Settings) -> PublishRequest:
    """The request for publishing ``post`` on a channel of ``kind``: its fields, that kind's variant, the media that
    kind's tab chose (all attached media when it chose none), its cover (the first image when none was chosen) and the address of its article on the public website."""
    chosen = channel_media(post, kind)
    media = tuple(media_file(item, settings) for item in chosen)
    cover_item = post.cover or next((item for item in post.media if item.kind == "image"), None)
    variant = post.variant(kind)
    if description(kind).media.cover_from_chosen and isinstance(variant.get("media_ids"), list):
        # The tab chose the picture for the cover (YouTube's thumbnail; none chosen: YouTube makes one from the video).
        cover_item = next((item for item in chosen if item.kind == "image"), None)
    variant.pop("media_ids", None)  # the adapter gets the chosen media themselves, in ``media``
    campaign = post.campaign
    return PublishRequest(
        post_id=post.id,
        idempotency_key=idempotency_key,
        title=post.title,
        summary=post.summary or "",
        body_html=post.body_html or "",
        slug=post.slug,
        variant=variant,
        media=media,
        cover=media_file(cover_item, settings) if cover_item is not None else None,
        hashtags=tuple(campaign.hashtags or ()) if campaign is not None else (),
        tags=tuple(post.tags or ()),
        public_url=f"{settings.public_url}/tin/{post.slug}",
        campaign_id=post.campaign_id,
        campaign_name=campaign.name if campaign is not None else "",
    )
