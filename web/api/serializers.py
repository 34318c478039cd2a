"""Model -> JSON shapes of the API (the contract's field names)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import url_for

from publisher.accounts.models import Unit, User
from publisher.content.models import Campaign, MediaItem, Post
from publisher.hierarchy.services import adoption_of


def iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def unit_json(unit: Unit) -> dict[str, Any]:
    return {"id": unit.id, "name": unit.name, "parent_id": unit.parent_id, "depth": unit.depth}


def user_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "name": user.name, "role": user.role, "unit_id": user.unit_id,
            "active": user.active, "locale": user.locale}


def campaign_json(campaign: Campaign) -> dict[str, Any]:
    return {
        "id": campaign.id,
        "unit_id": campaign.unit_id,
        "name": campaign.name,
        "description": campaign.description,
        "starts_on": iso(campaign.starts_on),
        "ends_on": iso(campaign.ends_on),
        "hashtags": list(campaign.hashtags or []),
        "goal": campaign.goal,
        "created_at": iso(campaign.created_at),
    }


def media_json(item: MediaItem) -> dict[str, Any]:
    renditions = {
        name: {"url": url_for("public.media_file", path=r["path"], _external=False), "width": r.get("width"),
               "height": r.get("height"), "bytes": r.get("bytes"), "content_type": r.get("content_type")}
        for name, r in (item.renditions or {}).items()
    }
    return {
        "id": item.id,
        "unit_id": item.unit_id,
        "kind": item.kind,
        "content_type": item.content_type,
        "filename": item.original_filename,
        "bytes": item.size_bytes,
        "width": item.width,
        "height": item.height,
        "caption": item.caption,
        "alt_text": item.alt_text,
        "url": url_for("public.media_file", path=item.path, _external=False),
        "renditions": renditions,
        "created_at": iso(item.created_at),
    }


def post_json(post: Post, deliveries: list[dict[str, Any]] | None = None, *, full: bool = True) -> dict[str, Any]:
    """A post as the API shows it; in a list (``full=False``) without its bodies (``body_html``, the website
    variant's), which only ``GET /posts/ID`` carries."""
    if deliveries is None:
        from publisher.content.deliveries import deliveries_for_post

        deliveries = deliveries_for_post(post)
    body = {
        "id": post.id,
        "unit_id": post.unit_id,
        "state": post.state,
        "version": post.version,
        "title": post.title,
        "slug": post.slug,
        "summary": post.summary,
        "body_html": post.body_html if full else None,
        "byline": post.byline,
        "category": post.category,
        "locality": post.locality,
        "tags": list(post.tags or []),
        "campaign_id": post.campaign_id,
        "cover_media_id": post.cover_media_id,
        "media_ids": [link.media_id for link in post.media_links],
        "variants": {v.channel_kind: dict(v.data or {}) for v in post.variants},
        "author_id": post.author_id,
        "review_note": post.review_note,
        "source_url": post.source_url,
        "source_name": post.source_name,
        "submitted_at": iso(post.submitted_at),
        "approved_at": iso(post.approved_at),
        "approved_by_id": post.approved_by_id,
        "created_at": iso(post.created_at),
        "updated_at": iso(post.updated_at),
        "deliveries": deliveries,
        "adopted_from": adoption_json(post),
    }
    if not full:
        del body["body_html"]
        for variant in body["variants"].values():
            variant.pop("body_html", None)
    return body


def adoption_json(post: Post) -> dict[str, Any] | None:
    """Where an adopted draft came from: its kit, the original post and the sender's suggested time; else None."""
    link = adoption_of(post)
    if link is None:
        return None
    return {"kit_id": link.kit_id, "original_post_id": link.original_post_id, "suggested_at": iso(link.suggested_at)}
