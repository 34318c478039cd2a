"""Redis connections and RQ queues: real Redis when ``PUBLISHER_REDIS_URL`` is set, else an in-process
fakeredis server (with Lua, so RQ's own scheduling works) shared by every thread of the embedded process."""

from __future__ import annotations

import threading
from typing import Any

from redis import Redis

from publisher.settings import Settings

QUEUE_NAMES = ("publish", "default", "engagement", "feeds")

_lock = threading.Lock()
_fake_server: Any = None
_connections: dict[str, Redis] = {}


def redis_connection(settings: Settings) -> Redis:
    """One shared connection per URL; the embedded stand-in when no Redis URL is set."""
    key = settings.redis_url or "embedded"
    with _lock:
        conn = _connections.get(key)
        if conn is None:
            if settings.redis_url:
                conn = Redis.from_url(settings.redis_url, socket_timeout=10, socket_connect_timeout=5,
                                      health_check_interval=30)
            else:
                import fakeredis

                global _fake_server
                if _fake_server is None:
                    _fake_server = fakeredis.FakeServer()
                conn = fakeredis.FakeStrictRedis(server=_fake_server)
            _connections[key] = conn
        return conn


def get_queue(settings: Settings, name: str = "default") -> Any:
    from rq import Queue

    if name not in QUEUE_NAMES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=redis_connection(settings))


def reset_embedded() -> None:
    """Forget the in-process server (tests start each from an empty one)."""
    global _fake_server
    with _lock:
        _fake_server = None
        _connections.pop("embedded", None)
