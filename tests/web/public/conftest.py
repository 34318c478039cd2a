from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from publisher.db import db
from tests.channels.conftest import make_media  # noqa: F401  (shared fixture)
from tests.conftest import csrf_from  # noqa: F401  (the public tests import it from here)
from tests.conftest import sign_in as sign_in_with_form


@pytest.fixture
def publish(app, settings, make_post) -> Callable[..., Any]:  # type: ignore[no-untyped-def]
    """``publish(**post_fields)`` -> (post, article): an approved post put on the website through its adapter."""
    from publisher.channels.base import adapter_class
    from publisher.scheduler.requests import publish_request_for
    from publisher.website.models import Article

    def make(post: Any = None, **fields: Any) -> tuple[Any, Any]:
        post = post or make_post(state="approved", **fields)
        site = adapter_class("website")(settings, {}, {})
        result = site.publish(publish_request_for(post, "website", uuid.uuid4().hex, settings))
        db.session.commit()
        return post, db.session.get(Article, int(result.remote_id))

    return make


@pytest.fixture
def sign_in(client) -> Callable[[Any], Any]:  # type: ignore[no-untyped-def]
    def do(user: Any) -> Any:
        sign_in_with_form(client, user)
        return client

    return do


