from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from publisher.channels.models import Channel
from publisher.db import db, utcnow
from publisher.scheduler.models import Delivery
from tests.conftest import sign_in_session
from tests.scheduler.testchannel import FakePlatform, register_testchannel


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config.update(retry_base_seconds=0.0, retry_max_attempts=4)
    return app_config


@pytest.fixture(autouse=True)
def _testchannel() -> None:
    register_testchannel()


@pytest.fixture(autouse=True)
def _close_connections(app: Flask) -> Iterator[None]:
    """Publishing threads open their own connections: close them all after each test (PostgreSQL's limit)."""
    yield
    db.session.remove()
    db.engine.dispose()


@pytest.fixture
def platform() -> Iterator[FakePlatform]:
    fake = FakePlatform().start()
    yield fake
    fake.stop()


@pytest.fixture
def make_channel(app: Flask, root_unit, platform: FakePlatform) -> Callable[..., Channel]:  # type: ignore[no-untyped-def]
    counter = iter(range(1, 1000))

    def make(name: str | None = None, unit: Any = None, **settings: Any) -> Channel:
        channel = Channel(unit_id=(unit or root_unit).id, kind="testchannel", name=name or f"Kênh {next(counter)}",
                          settings={"base_url": platform.url, **settings}, state="connected", last_error="")
        db.session.add(channel)
        db.session.commit()
        return channel

    return make


@pytest.fixture
def schedule(app: Flask, make_user) -> Callable[..., list[Delivery]]:  # type: ignore[no-untyped-def]
    """schedule(post, channels, at=None): schedule through the service as an editor of the root unit, committed."""
    from publisher.scheduler.services import schedule_post

    editor = make_user("editor")

    def run(post: Any, channels: list[Channel], at: Any = None, **extra: Any) -> list[Delivery]:
        data = {"channel_ids": [c.id for c in channels], **extra}
        if at is not None:
            data["at"] = at.isoformat() if hasattr(at, "isoformat") else at
        deliveries = schedule_post(post, editor, data, app.extensions["publisher.settings"])
        db.session.commit()
        return deliveries

    return run


def run_worker(app: Flask) -> None:
    """A real RQ SimpleWorker over Loa's queues, until they are empty."""
    from publisher.worker import _worker

    db.session.commit()
    _worker(app).work(burst=True, logging_level="WARNING")
    db.session.expire_all()


def tick(app: Flask) -> int:
    """One scheduler round (queue what is due from the database) and the workers drain the queues."""
    from publisher.scheduler import jobs

    db.session.commit()
    queued = jobs.enqueue_due()
    db.session.commit()
    run_worker(app)
    return queued


@pytest.fixture
def drain(app: Flask) -> Callable[..., None]:
    def run(rounds: int = 10, until: Callable[[], bool] | None = None) -> None:
        for _ in range(rounds):
            tick(app)
            if until is not None and until():
                return

    return run


def fresh(delivery_id: int) -> Delivery:
    db.session.expire_all()
    delivery = db.session.get(Delivery, delivery_id)
    assert delivery is not None
    return delivery


def soon(seconds: float) -> Any:
    return utcnow() + timedelta(seconds=seconds)


@pytest.fixture
def signed_in(client, make_user):  # type: ignore[no-untyped-def]
    """``signed_in("approver")``: a user of that role (English pages unless ``locale`` says otherwise), signed in
    on ``client`` through the session."""

    def sign_in(role="editor", **kwargs):  # type: ignore[no-untyped-def]
        user = make_user(role, locale=kwargs.pop("locale", "en"), **kwargs)
        sign_in_session(client, user)
        return user

    return sign_in

