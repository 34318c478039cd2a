"""Publishing deliveries exactly once.

The order of events for one delivery:

1. The claim: one atomic conditional UPDATE moves it to ``publishing`` with ``claimed_by``/``claimed_at``,
   committed before the platform is called (``claim``: the (id, version) pairs of an RQ publish job, ``state =
   'scheduled' AND version = :v AND due``; ``claim_due``: the oldest due rows, for a woken worker). Two workers
   racing for it: the database lets exactly one UPDATE match.
2. An attempt row is committed (the evidence if the worker dies mid-call), with the attempt count.
3. If the delivery ``needs_lookup`` (an earlier publish may have reached the platform without an answer), the
   channel is asked by idempotency key first: found -> published; not found -> publish; cannot tell ->
   ``unconfirmed``, a person decides.
4. The publish carries the idempotency key. The outcome is written with a conditional UPDATE that only lands while
   this worker still holds the claim.

There is one publish path, ``publish_claimed``, mapped over the claimed batch (a single delivery is a batch of
one). It goes in rounds (``_round``): the attempts of every delivery in the round started (one UPDATE counting
them where the claim is still held, one INSERT of their rows, one commit), the platform calls overlapped in the
worker's threads, each answer decided (``_decide``: published, retry later, failed, paused, unconfirmed, or one
more call: a look-up after a duplicate or after the last uncertain error, the publish after a look-up that found
nothing), then the attempts' ends in one UPDATE and the outcomes in one conditional UPDATE per outcome, in one
commit. The deliveries that need one more call make the next round.

A worker killed between 1 and 4 leaves the delivery in ``publishing``: ``recover_stale`` (periodic) finds it
past its lease and reschedules it with ``needs_lookup`` set, so it is looked up, never blindly published again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import random
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import (
    JSON,
    Integer,
    String,
    any_,
    bindparam,
    case,
    cast,
    column,
    func,
    insert,
    literal,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import joinedload, selectinload

from publisher.channels.base import ChannelError, ErrorKind, descriptions
from publisher.channels.models import PAUSING_STATES, Channel
from publisher.channels.services import adapter_for, keep_refreshed_secrets
from publisher.content.models import Post
from publisher.db import after_commit, db, utcnow
from publisher.scheduler import notify
from publisher.scheduler.models import Delivery, DeliveryAttempt, Webhook
from publisher.scheduler.services import build_request
from publisher.settings import Settings

log = logging.getLogger(__name__)

# Publishes per minute a channel kind takes by default is its description's ``rate_per_minute`` (a channel's settings
# may say ``rate_per_minute``); a kind that gives none gets this.
FALLBACK_RATE_PER_MINUTE = 1200
MAX_PARALLEL_PUBLISHES = 256  # several claim threads of a worker share them


def current_settings() -> Settings:
    return current_app.extensions["publisher.settings"]


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"


# --- back-off and rate limiting --------------------------------------------------------------------------


def backoff_seconds(settings: Settings, attempt: int, retry_after: float | None = None,
                    rng: random.Random | None = None) -> float:
    """Exponential back-off from the base, doubling per attempt, jitter within ±20 %; a longer platform
    retry hint wins."""
    rng = rng or random
    delay = settings.retry_base_seconds * (2 ** max(attempt - 1, 0)) * rng.uniform(0.8, 1.2)
    if retry_after is not None and retry_after > delay:
        return float(retry_after)
    return delay


# One publish token per delivery from its channel's bucket, for a whole batch in one call: KEYS[i] is the bucket of
# the i-th delivery (a channel with several deliveries in the batch is named several times, and they take their
# tokens in turn); ARGV is the time, then each delivery's bucket rate (tokens per second) and capacity. Returns
# each delivery's wait in seconds, "0" when it got its token.
_TOKEN_BUCKETS = """
local now = tonumber(ARGV[1])
local waits = {}
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[2 * i])
  local capacity = tonumber(ARGV[2 * i + 1])
  local data = redis.call('HMGET', key, 'tokens', 'ts')
  local tokens = tonumber(data[1])
  local ts = tonumber(data[2])
  if tokens == nil then tokens = capacity end
  if ts == nil then ts = now end
  tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate)
  local wait = 0
  if tokens >= 1 then
    tokens = tokens - 1
  else
    wait = (1 - tokens) / rate
  end
  redis.call('HSET', key, 'tokens', tostring(tokens), 'ts', tostring(now))
  redis.call('EXPIRE', key, math.ceil(capacity / rate) + 60)
  waits[i] = tostring(wait)
end
return waits
"""


def channel_rate(channel: Any) -> float:
    """Publishes per minute for a channel (a ``Channel``, or a row with its ``kind`` and ``settings``)."""
    configured = (channel.settings or {}).get("rate_per_minute")
    if isinstance(configured, (int, float)) and not isinstance(configured, bool) and configured > 0:
        return float(configured)
    description = descriptions().get(channel.kind)
    rate = description.rate_per_minute if description is not None else None
    return float(rate or FALLBACK_RATE_PER_MINUTE)


_BUCKET_SCRIPT: tuple[Any, Any] = (None, None)  # (the Redis connection, the script registered on it)


def _bucket_script(conn: Any) -> Any:
    """The token-bucket script registered once per connection (registering hashes the script's text)."""
    global _BUCKET_SCRIPT
    registered_on, script = _BUCKET_SCRIPT
    if registered_on is not conn:
        script = conn.register_script(_TOKEN_BUCKETS)
        _BUCKET_SCRIPT = (conn, script)
    return script


def take_tokens(settings: Settings, channels: list[Any]) -> list[float]:
    """One publish token for each delivery's channel (in order), from the channels' buckets in Redis, in one
    round trip; 0 when granted, else the seconds to wait. Shared by every worker on every machine, so a big
    campaign stays under the platforms' limits."""
    if not channels:
        return []
    from publisher.queue import redis_connection

    args: list[float] = [time.time()]
    rates: dict[int, float] = {}
    for channel in channels:
        if channel.id not in rates:
            rates[channel.id] = channel_rate(channel)
        per_minute = rates[channel.id]
        args += [per_minute / 60.0, max(1.0, per_minute / 6.0)]  # capacity: ten seconds' worth of burst
    try:
        waits = _bucket_script(redis_connection(settings))(keys=[f"loa:bucket:{c.id}" for c in channels],
                                                            args=args)
    except Exception:  # noqa: BLE001 - without Redis there is no queue either; do not block the publish on it
        log.warning("rate limiter unavailable; publishing without it")
        return [0.0] * len(channels)
    return [float(w.decode() if isinstance(w, bytes) else w) for w in waits]


# --- claiming --------------------------------------------------------------------------------------------


# The hot path's statements are Core statements on the tables (no ORM compile, no ORM rows: a few times cheaper
# per statement in a worker); the rest of Loa reads and writes deliveries through the ORM.
_DT = Delivery.__table__
_D = _DT.c
_POSTS = Post.__table__.c
_CHANNELS = Channel.__table__.c
# What a batch reads of its channels: their state (paused?), rate and kind, and what keys their adapters; an adapter
# is made from the whole channel (its secrets) only when the worker has none for that channel as it is now.
_CHANNEL_COLUMNS = (_CHANNELS.id, _CHANNELS.kind, _CHANNELS.state, _CHANNELS.settings, _CHANNELS.updated_at)


def due_filter(now: datetime) -> list[Any]:
    """A delivery is due: scheduled, its time (and its retry's) come, its post approved. The post's state is a
    correlated look-up by primary key, not ``IN (approved posts)``: the planner could turn that into a join with
    every approved post (a year's posts) and a sort of every due row before the claim's ``LIMIT``; the look-up
    keeps the claim an index scan in due order that stops after the rows it takes."""
    post_state = select(_POSTS.state).where(_POSTS.id == _D.post_id).scalar_subquery()
    return [
        _D.state == "scheduled",
        _D.scheduled_at <= now,
        (_D.next_attempt_at.is_(None)) | (_D.next_attempt_at <= now),
        post_state == "approved",
    ]


def due_in_order(now: datetime, limit: int) -> Any:
    """The oldest due deliveries' ids, at most ``limit``, in the order of the index on (state, scheduled_at): no
    tie-break on id, which no index gives and would sort every delivery due at that second (a campaign's
    thousands) for each claim of fifty."""
    return select(_D.id).where(*due_filter(now)).order_by(_D.scheduled_at).limit(max(1, limit))


@dataclass(frozen=True)
class Claimed:
    """A delivery this worker claimed, as the claim returned it: the publish path reads no ORM objects for it."""

    id: int
    version: int
    post_id: int
    channel_id: int
    idempotency_key: str
    needs_lookup: bool
    attempts: int  # publish attempts so far, the one this claim is for included (a look-up is not one)


_CLAIMED = (_D.id, _D.version, _D.post_id, _D.channel_id, _D.idempotency_key, _D.needs_lookup, _D.attempts)
# What a claim adds to a delivery's attempts: its first call is the publish, unless it must be looked up first.
_FIRST_CALL_COUNTS = case((_D.needs_lookup, 0), else_=1)


def _on_postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"


def _int_array(items: list[int]) -> Any:
    return bindparam(None, [int(i) for i in items], type_=ARRAY(Integer))


def _unnest(**columns: tuple[Any, list[Any]]) -> Any:
    """``unnest(:a, :b, …) AS batch(a, b, …)``: rows given as one array parameter per column (PostgreSQL): a short
    statement whatever the batch size, which the driver caches and the server prepares once, instead of a new
    text with a hundred parameters for every batch."""
    arrays = [bindparam(None, list(values_), type_=ARRAY(type_)) for type_, values_ in columns.values()]
    return func.unnest(*arrays).table_valued(*[column(name, type_) for name, (type_, _v) in columns.items()]) \
        .render_derived(name="batch", with_types=False)


def _claim(*conditions: Any, worker: str, now: datetime, commit: bool = True) -> list[Claimed]:
    """The claim's one conditional UPDATE (to ``publishing``, for this worker, its first call counted as an attempt
    when it is the publish) and its commit (``commit=False``: the caller's next commit, which must come before any
    platform call); the claimed rows, by id."""
    statement = (update(_DT).where(*conditions)
                 .values(state="publishing", claimed_by=worker, claimed_at=now, updated_at=now,
                         attempts=_D.attempts + _FIRST_CALL_COUNTS)
                 .returning(*_CLAIMED))
    try:
        rows = sorted((Claimed(*row) for row in db.session.execute(statement)), key=lambda r: r.id)
        if commit:
            db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return rows


def _claim_pairs(pairs: list[tuple[int, int]], worker: str, now: datetime | None = None) -> list[Claimed]:
    if not pairs:
        return []
    now = now or utcnow()
    if _on_postgresql():
        # The pairs drive the statement (joined on the primary key): the plan stays a few index lookups even right
        # after thousands of deliveries were scheduled, before their statistics are fresh. Rows locked by a
        # concurrent claim are skipped; the rows locked here matched every condition and nobody else can change
        # them until this commits.
        wanted = _unnest(id=(Integer, [int(i) for i, _v in pairs]), version=(Integer, [int(v) for _i, v in pairs]))
        lockable = (select(_D.id)
                    .join(wanted, (_D.id == wanted.c.id) & (_D.version == wanted.c.version))
                    .where(*due_filter(now)).with_for_update(of=_DT, skip_locked=True))
        return _claim(_D.id.in_(lockable.scalar_subquery()), worker=worker, now=now)
    return _claim(_D.id.in_([i for i, _v in pairs]), tuple_(_D.id, _D.version).in_(pairs),
                  *due_filter(now), worker=worker, now=now)


def claim(pairs: list[tuple[int, int]], worker: str, now: datetime | None = None) -> list[int]:
    """Claim the due deliveries among (id, version) pairs for this worker and commit; returns the claimed ids.

    One conditional UPDATE: a delivery whose version changed (edit, reschedule, cancel), that is not due, or that
    another worker claimed first is simply not matched. On PostgreSQL rows locked by a concurrent claim are
    skipped (SKIP LOCKED) instead of waited for."""
    return [row.id for row in _claim_pairs(pairs, worker, now)]


def _claim_due(worker: str, limit: int, now: datetime | None = None, commit: bool = True) -> list[Claimed]:
    now = now or utcnow()
    lockable = due_in_order(now, limit).with_for_update(of=_DT, skip_locked=True)
    return _claim(_D.id.in_(lockable.scalar_subquery()), worker=worker, now=now, commit=commit)


def claim_due(worker: str, limit: int, now: datetime | None = None) -> list[int]:
    """PostgreSQL: claim up to ``limit`` due deliveries, oldest first, straight from the table, and commit; returns
    the claimed ids. Rows another worker is claiming are skipped (``FOR UPDATE SKIP LOCKED``), so any number of
    workers drain the same due minute without waiting for each other and without any of them getting a row twice.
    This is how woken workers take work (see ``publish_due``); SQLite keeps the RQ job per batch."""
    return [row.id for row in _claim_due(worker, limit, now)]


def publish_due(limit: int, now: datetime | None = None) -> dict[str, int]:
    """Claim one batch of due deliveries from the database (``claim_due``) and publish it; {} when nothing was
    due. A woken worker calls this until it returns {}.

    The claim is committed with the batch's attempts (``publish_claimed``), still before any platform call: one
    commit fewer per batch. Until then its rows stay locked, so other workers skip them; if anything fails before
    that commit, the claim is rolled back with it and the deliveries are still ``scheduled``."""
    worker = worker_name()
    try:
        rows = _claim_due(worker, limit, now, commit=False)
        if not rows:
            db.session.rollback()  # nothing matched: end the claim's transaction
            return {}
        return publish_claimed(rows, worker)
    except Exception:
        db.session.rollback()
        raise


def publish_deliveries(pairs: list[tuple[int, int]], now: datetime | None = None) -> dict[str, int]:
    """Claim these (id, version) pairs where they are still due (``claim``) and publish the claimed ones (an RQ
    publish job); returns outcome counts."""
    worker = worker_name()
    return publish_claimed(_claim_pairs(pairs, worker, now), worker)


def claims_directly(settings: Settings) -> bool:
    """Whether workers claim due deliveries from the database when woken (PostgreSQL and a real Redis) rather than
    through one RQ job per batch (SQLite and the embedded mode)."""
    return bool(settings.redis_url) and _on_postgresql()


# --- set-based writes ------------------------------------------------------------------------------------


def _each_row(table: Any, keys: list[tuple[int, ...]], columns: dict[str, list[Any]],
              types: dict[str, Any] | None = None) -> tuple[list[Any], dict[str, Any]]:
    """What one UPDATE of several rows needs to give each row its own values: the conditions matching the rows
    (``keys``, one ``(id,)`` or ``(id, version)`` per row) and each column's value expression (``columns``: name ->
    the values in the rows' order; ``types`` for names that are not columns of ``table``, which the caller uses
    in expressions). A value the same for every row is one plain parameter. On PostgreSQL the rows travel as one
    array parameter per column (``UPDATE … FROM unnest(…) AS batch``), on SQLite as ``CASE id WHEN …``."""
    ids = [int(k[0]) for k in keys]
    versioned = len(keys[0]) > 1
    types = {name: (types or {}).get(name) or table.c[name].type for name in columns}
    first = {name: values[0] for name, values in columns.items()}
    varying = [name for name, values in columns.items() if any(v != first[name] for v in values)]
    exprs = {name: bindparam(None, first[name], type_=types[name]) for name in columns if name not in varying}
    if _on_postgresql():
        if not varying and not versioned:
            return [table.c.id == any_(_int_array(ids))], exprs
        json_columns = {name for name in varying if isinstance(types[name], JSON)}
        batch = _unnest(id=(Integer, ids), **({"version": (Integer, [int(k[1]) for k in keys])} if versioned else {}),
                        **{name: (String, [json.dumps(v) for v in columns[name]]) if name in json_columns
                           else (types[name], columns[name]) for name in varying})
        for name in varying:
            exprs[name] = cast(batch.c[name], JSONB) if name in json_columns else batch.c[name]
        return [table.c.id == batch.c.id, *([table.c.version == batch.c.version] if versioned else [])], exprs
    conditions = [table.c.id.in_(ids)]
    if versioned:
        conditions.append(tuple_(table.c.id, table.c.version).in_([tuple(k) for k in keys]))
    for name in varying:
        exprs[name] = case({i: bindparam(None, v, type_=types[name]) for i, v in zip(ids, columns[name], strict=True)},
                           value=table.c.id)
    return conditions, exprs


def _finish(rows: list[Claimed], worker: str, per_row: dict[str, list[Any]], **values: Any) -> set[int]:
    """Write outcomes (``values`` for every row, ``per_row`` each row's own) in one conditional UPDATE that lands
    only where this worker still holds the claim of that version (recovery may have taken it over); returns the
    ids it wrote. Callers commit."""
    if not rows:
        return set()
    conditions, exprs = _each_row(_DT, [(r.id, r.version) for r in rows], per_row)
    written = set(db.session.scalars(
        update(_DT).where(*conditions, _D.state == "publishing", _D.claimed_by == worker)
        .values(**values, **exprs, updated_at=utcnow()).returning(_D.id)))
    for row in rows:
        if row.id not in written:
            log.warning("delivery %s: claim lost before the outcome could be written (%s)", row.id,
                        values.get("state"))
    return written


def _put_back(rows: list[Claimed], worker: str, *, state: str, retry_in: list[float] | None = None) -> int:
    """Release claimed deliveries without an attempt (a paused channel, a rate limit; the attempt their claim
    counted taken back), with a new version so that a queued job for the old one does nothing; returns how many.
    Callers commit."""
    now = utcnow()
    per_row = {"next_attempt_at": [now + timedelta(seconds=w) for w in retry_in]} if retry_in else {}
    return len(_finish(rows, worker, per_row, state=state, version=_D.version + 1, claimed_by=None,
                       attempts=_D.attempts - _FIRST_CALL_COUNTS))


# --- the publish path ------------------------------------------------------------------------------------


def error_fields(exc: BaseException) -> tuple[str | None, str]:
    """The (code, message) an attempt row and a delivery's last error keep of a failure."""
    if isinstance(exc, ChannelError):
        code = "/".join(x for x in (exc.code, exc.subcode) if x) or (str(exc.http_status) if exc.http_status else None)
        return code or exc.kind.value, exc.platform_message or exc.message
    return exc.__class__.__name__, str(exc) or exc.__class__.__name__


def _reason(code: str | None, message: str) -> str:
    return f"{code}: {message}" if code else message


def _count(outcomes: dict[str, int], outcome: str, n: int = 1) -> None:
    if n:
        outcomes[outcome] = outcomes.get(outcome, 0) + n


class AdapterPool:
    """Adapters kept per channel for the life of the worker process, so that each channel's client (its HTTP
    session and kept-alive connections, a built API client) is made once, not once per delivery. An adapter is
    used by one thread at a time (some clients, httplib2's, are not thread-safe): a batch with several deliveries
    for one channel checks out several. A channel changed since (new tokens, a reconnect, refreshed secrets) gets
    new adapters: the key is the channel's id and the time it last changed."""

    def __init__(self, per_channel: int = 8) -> None:
        self._idle: dict[tuple[int, Any], list[Any]] = {}
        self._lock = threading.Lock()
        self.per_channel = per_channel

    @staticmethod
    def key(channel: Any) -> tuple[int, Any]:
        """A channel's key (a ``Channel``, or a row with its ``id`` and ``updated_at``)."""
        return channel.id, channel.updated_at

    def checkout(self, key: tuple[int, Any], settings: Settings) -> Any:
        """An idle adapter of the channel ``key`` names, else a new one (the channel loaded for its secrets)."""
        with self._lock:
            idle = self._idle.get(key)
            if idle:
                return idle.pop()
        channel = db.session.get(Channel, key[0])
        if channel is None:
            raise LookupError(f"channel {key[0]} no longer exists")
        return adapter_for(channel, settings)

    def checkin(self, key: tuple[int, Any], adapter: Any) -> None:
        if getattr(adapter, "updated_secrets", None):
            return  # it refreshed its token: the channel changed, and so will its key
        with self._lock:
            for stale in [k for k in self._idle if k[0] == key[0] and k != key]:
                del self._idle[stale]
            idle = self._idle.setdefault(key, [])
            if len(idle) < self.per_channel:
                idle.append(adapter)


ADAPTERS = AdapterPool()


def _pool() -> ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=MAX_PARALLEL_PUBLISHES, thread_name_prefix="publish")
        return _POOL


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()
_SQLITE_TURNS = threading.Lock()


@dataclass(frozen=True)
class _Step:
    """One platform call a claimed delivery makes next: its publish, or a look-up by idempotency key."""

    row: Claimed
    action: str  # "publish" or "lookup"
    adapter: Any
    request: Any
    # A look-up's reason (the error that led to it, kept as the delivery's error if the channel cannot tell) and
    # what a look-up that finds nothing leads to: the publish, or the delivery ``unconfirmed`` or ``failed``.
    reason: tuple[str | None, str] | None = None
    if_not_found: str = "publish"
    unprepared: BaseException | None = None  # the publish could not be prepared: no call, this error

    @property
    def counts(self) -> bool:
        """Whether this call counts as one of the delivery's publish attempts."""
        return self.action == "publish" and self.unprepared is None


@dataclass(frozen=True)
class _Answer:
    """What a step's call leads to: the end of its attempt row, then either an outcome (``published``, ``retry``,
    ``failed``, ``paused``, ``unconfirmed``, with the delivery's own values for it) or the ``next`` step."""

    attempt: dict[str, Any]
    outcome: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    next: _Step | None = None


# Every outcome's values beyond the ones each delivery has of its own (``_Answer.values``).
_OUTCOMES: dict[str, dict[str, Any]] = {
    "published": {"state": "published", "claimed_by": None, "last_error": None, "last_error_code": None,
                  "needs_lookup": False, "next_attempt_at": None},
    "retry": {"state": "scheduled", "version": _D.version + 1, "claimed_by": None},
    "failed": {"state": "failed", "claimed_by": None, "next_attempt_at": None},
    "paused": {"state": "paused", "version": _D.version + 1, "claimed_by": None, "attempts": 0},
    "unconfirmed": {"state": "unconfirmed", "claimed_by": None, "needs_lookup": True},
}
_EVENTS = {"published": "delivery.published", "failed": "delivery.failed", "unconfirmed": "delivery.unconfirmed"}


def publish_claimed(rows: list[Claimed], worker: str) -> dict[str, int]:
    """Publish deliveries this worker has claimed — any number, one included; returns outcome counts. The claim may
    still be in the session's transaction: it is committed (with the put-back rows, or with the first round's
    attempts) before any platform call.

    Per batch: their channels in one statement, paused and rate-limited ones put back in one statement each (one
    Redis call takes every token), each post's request built once, each channel's adapter from the worker's pool;
    then rounds of platform calls (``_round``) until every delivery has its outcome."""
    outcomes: dict[str, int] = {}
    if not rows:
        return outcomes
    settings = current_settings()
    channels = {c.id: c for c in db.session.execute(
        select(*_CHANNEL_COLUMNS).where(_in_ids(_CHANNELS.id, sorted({r.channel_id for r in rows}))))}
    pausing = [r for r in rows if channels[r.channel_id].state in PAUSING_STATES]
    _count(outcomes, "paused", _put_back(pausing, worker, state="paused"))
    ready = [r for r in rows if channels[r.channel_id].state not in PAUSING_STATES]
    waits = take_tokens(settings, [channels[r.channel_id] for r in ready])
    # Over the channel's rate: back in the queue without spending an attempt.
    over = [(r, wait) for r, wait in zip(ready, waits, strict=True) if wait > 0]
    _count(outcomes, "deferred", _put_back([r for r, _w in over], worker, state="scheduled",
                                           retry_in=[w for _r, w in over]))
    steps = _prepare([r for r, wait in zip(ready, waits, strict=True) if wait <= 0], channels, settings)
    if not steps:  # else the first round's attempts commit the claim and the put-back rows with them
        db.session.commit()
    try:
        following, first = steps, True
        while following:
            following, first = _round(following, worker, settings, outcomes, first), False
        # A platform that refreshed a channel's access token (YouTube) hands it back: keep it, encrypted.
        if any([keep_refreshed_secrets(db.session.get(Channel, s.row.channel_id), s.adapter, settings)
                for s in steps if getattr(s.adapter, "updated_secrets", None)]):
            db.session.commit()
    finally:
        for step in steps:
            if step.adapter is not None:
                ADAPTERS.checkin(AdapterPool.key(channels[step.row.channel_id]), step.adapter)
    return outcomes


def _in_ids(column_: Any, ids: list[int]) -> Any:
    """``column IN ids``; on PostgreSQL ``= ANY(:ids)``, one array parameter."""
    return column_ == any_(_int_array(ids)) if _on_postgresql() else column_.in_(ids)


def _prepare(rows: list[Claimed], channels: dict[int, Any], settings: Settings) -> list[_Step]:
    """Each delivery's first step: its look-up when it ``needs_lookup``, else its publish; the posts loaded in one
    query, each post's request built once per channel kind and given each delivery's idempotency key, the adapters
    from the pool. One that cannot be prepared gets a step that makes no call."""
    if not rows:
        return []
    posts = {p.id: p for p in db.session.scalars(
        select(Post).where(_in_ids(Post.id, sorted({r.post_id for r in rows})))
        .options(selectinload(Post.variants), selectinload(Post.media_links), joinedload(Post.cover),
                 joinedload(Post.campaign)))}
    built: dict[tuple[int, str], Any] = {}
    steps: list[_Step] = []
    for row in rows:
        channel = channels[row.channel_id]
        try:
            key = (row.post_id, channel.kind)
            if key not in built:
                built[key] = build_request(posts[row.post_id], channel, row.idempotency_key, settings)
            request = dataclasses.replace(built[key], idempotency_key=row.idempotency_key)
            adapter = ADAPTERS.checkout(AdapterPool.key(channel), settings)
        except Exception as exc:  # noqa: BLE001 - no adapter for the kind, unreadable secrets, a missing media file
            log.exception("delivery %s: cannot prepare the publish", row.id)
            steps.append(_Step(row, "publish", None, None, unprepared=exc))
            continue
        steps.append(_Step(row, "lookup" if row.needs_lookup else "publish", adapter, request))
    return steps


def _round(steps: list[_Step], worker: str, settings: Settings, outcomes: dict[str, int],
           first: bool = False) -> list[_Step]:
    """One call for each step: the attempts started and committed, the calls overlapped, the answers decided,
    the attempts' ends and the outcomes written in one commit; returns the steps the answers lead to. ``first``:
    the claim's own round, whose attempts the claim counted."""
    started = _start_attempts(steps, worker, counted_by_claim=first)
    _count(outcomes, "skipped", len(steps) - len(started))  # claim lost meanwhile: no call
    steps = [step for step in steps if step.row.id in started]
    answers = [_decide(step, started[step.row.id][1], *called, settings)
               for step, called in zip(steps, _call_platforms(steps), strict=True)]
    _end_attempts([(started[step.row.id][0], answer.attempt) for step, answer in zip(steps, answers, strict=True)])
    by_outcome: dict[str, list[tuple[Claimed, dict[str, Any]]]] = {}
    for step, answer in zip(steps, answers, strict=True):
        if answer.next is None:
            by_outcome.setdefault(answer.outcome, []).append((step.row, answer.values))
    paused: dict[int, str] = {}
    for outcome, items in by_outcome.items():
        per_row = {name: [values[name] for _row, values in items] for name in items[0][1]}
        extra = {"published_at": utcnow()} if outcome == "published" else {}
        written = _finish([row for row, _v in items], worker, per_row, **_OUTCOMES[outcome], **extra)
        _count(outcomes, outcome, len(written))
        _count(outcomes, "skipped", len(items) - len(written))
        if outcome == "paused":
            for row, values in items:
                paused.setdefault(row.channel_id, values["last_error"])
        event = _EVENTS.get(outcome)
        if event and written and (outcome != "published" or db.session.scalar(
                select(Webhook.id).where(Webhook.active.is_(True)).limit(1)) is not None):
            for delivery_id in sorted(written):
                _notify(delivery_id, event)
    db.session.commit()
    for channel_id, reason in paused.items():
        pause_channel(channel_id, reason)
    return [answer.next for answer in answers if answer.next is not None]


def _start_attempts(steps: list[_Step], worker: str, counted_by_claim: bool = False) -> dict[int, tuple[int, int]]:
    """Where this worker still holds the claim: one more attempt counted for each publish (and ``needs_lookup``
    cleared: the look-up, if any, is done), and an attempt row for each step, in two statements and one commit,
    before the platform is called; {delivery id: (attempt row id, attempts so far)}. ``counted_by_claim``: the
    claim's round, whose attempts the claim counted (its first call is the publish unless ``needs_lookup``), in the
    same transaction or committed just before: only the rows are inserted."""
    if not steps:
        return {}
    if counted_by_claim:
        counted = {s.row.id: s.row.attempts for s in steps}
    else:
        conditions, exprs = _each_row(_DT, [(s.row.id, s.row.version) for s in steps],
                                      {"counted": [int(s.counts) for s in steps]}, types={"counted": Integer()})
        counted = dict(db.session.execute(
            update(_DT).where(*conditions, _D.state == "publishing", _D.claimed_by == worker)
            .values(attempts=_D.attempts + exprs["counted"],
                    needs_lookup=case((exprs["counted"] == 1, False), else_=_D.needs_lookup))
            .returning(_D.id, _D.attempts)).all())
    for step in steps:
        if step.row.id not in counted:
            log.warning("delivery %s: claim lost before the %s; no call made", step.row.id, step.action)
    held = [s for s in steps if s.row.id in counted]
    started: dict[int, tuple[int, int]] = {}
    if held:
        now = utcnow()
        table = DeliveryAttempt.__table__
        if _on_postgresql():
            batch = _unnest(id=(Integer, [s.row.id for s in held]), version=(Integer, [s.row.version for s in held]),
                            action=(String, [s.action for s in held]))
            inserted = db.session.execute(
                insert(table).from_select(
                    ["delivery_id", "action", "worker", "outcome", "started_at", "details"],
                    select(batch.c.id, batch.c.action, literal(worker[:200]), literal("running"),
                           literal(now, type_=table.c.started_at.type),
                           func.jsonb_build_object("version", batch.c.version)))
                .returning(table.c.id, table.c.delivery_id))
        else:
            inserted = db.session.execute(
                insert(table).returning(table.c.id, table.c.delivery_id, sort_by_parameter_order=True),
                [{"delivery_id": s.row.id, "action": s.action, "worker": worker[:200], "outcome": "running",
                  "started_at": now, "details": {"version": s.row.version}} for s in held])
        started = {delivery_id: (attempt_id, counted[delivery_id]) for attempt_id, delivery_id in inserted}
    db.session.commit()
    return started


def _call_platforms(steps: list[_Step]) -> list[tuple[Any, BaseException | None]]:
    """Each step's platform call, overlapped in the worker's threads; (its answer, its error) in order."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    # SQLite has one writer at a time and refuses (rather than waits for) a read transaction that wants to
    # become a write one while another thread writes: there the calls of a batch take turns.
    turns = _SQLITE_TURNS if db.engine.dialect.name == "sqlite" else contextlib.nullcontext()

    def call(step: _Step) -> tuple[Any, BaseException | None]:
        if step.unprepared is not None:
            return None, step.unprepared
        with turns, app.app_context():
            try:
                if step.action == "publish":
                    answer, error = step.adapter.publish(step.request), None
                else:
                    answer, error = step.adapter.find_existing(step.request), None
            except Exception as exc:  # noqa: BLE001 - decided below, in the calling thread
                answer, error = None, exc
            # Adapters backed by this database (the website, the YouTube quota) write through the thread's own
            # session, committed here like a remote platform's side of the call: the outcome comes after.
            if db.session.registry.has():
                try:
                    db.session.commit()
                except Exception:  # noqa: BLE001 - a failed call may leave the session unusable
                    db.session.rollback()
                finally:
                    db.session.remove()
            return answer, error

    if len(steps) == 1:  # nothing to overlap: no hand-over to a thread
        return [call(steps[0])]
    return list(_pool().map(call, steps))


def _ended(outcome: str, row: Claimed, code: str | None = None, message: str | None = None, found: Any = None,
           **details: Any) -> dict[str, Any]:
    """An attempt row's end."""
    return {"outcome": outcome, "code": code[:100] if code else None, "message": message,
            "remote_id": found.remote_id if found is not None else None,
            "remote_url": (found.remote_url or None) if found is not None else None,
            "details": {"version": row.version, **details}}


def _published(attempt: dict[str, Any], found: Any) -> _Answer:
    return _Answer(attempt, "published", {"remote_id": found.remote_id, "remote_url": found.remote_url or None,
                                          "warnings": list(found.warnings)})


def _closed(attempt: dict[str, Any], outcome: str, code: str | None, message: str) -> _Answer:
    """``failed``, ``paused`` or ``unconfirmed``, with the error as the delivery's last one."""
    return _Answer(attempt, outcome, {"last_error": _reason(code, message), "last_error_code": code})


def _decide(step: _Step, attempts: int, answer: Any, error: BaseException | None, settings: Settings) -> _Answer:
    """What one call's answer leads to (``attempts``: the delivery's publish attempts, this one included)."""
    row = step.row
    if step.unprepared is not None:
        code, message = error_fields(step.unprepared)
        return _closed(_ended("error", row, code, message), "unconfirmed" if row.needs_lookup else "failed", code,
                       message)
    if step.action == "lookup":
        # Found: published. Cannot tell: ``unconfirmed`` (with the error that led here, else the look-up's own), a
        # person decides with the evidence. Not found: what the step says (the publish, unconfirmed, failed).
        if error is not None:
            code, message = error_fields(error)
            return _closed(_ended("unknown", row, code, message), "unconfirmed", *(step.reason or (code, message)))
        if answer is not None:
            return _published(_ended("found", row, found=answer), answer)
        if step.if_not_found == "publish":
            return _Answer(_ended("not_found", row), next=dataclasses.replace(step, action="publish"))
        assert step.reason is not None
        return _closed(_ended("not_found", row), step.if_not_found, *step.reason)
    if error is None:
        return _published(_ended("published", row, found=answer), answer)
    if not isinstance(error, ChannelError):  # an unclassified failure may have reached the platform
        log.error("delivery %s: unexpected publish failure", row.id, exc_info=error)
        error = ChannelError(ErrorKind.TRANSIENT, str(error) or error.__class__.__name__,
                             code=error.__class__.__name__)
    code, message = error_fields(error)
    if error.kind is ErrorKind.DUPLICATE:
        return _Answer(_ended("duplicate", row, code, message),
                       next=dataclasses.replace(step, action="lookup", reason=(code, message),
                                                if_not_found="unconfirmed"))
    if error.kind is ErrorKind.REJECTED:
        return _closed(_ended("rejected", row, code, message), "failed", code, message)
    if error.kind is ErrorKind.AUTH_EXPIRED:
        return _closed(_ended("auth_expired", row, code, message), "paused", code, message)
    # TRANSIENT or RATE_LIMITED: retry later, unless the round is spent.
    uncertain = error.kind is ErrorKind.TRANSIENT  # a time-out or 5xx may have been accepted: look before retrying
    ended = _ended("rate_limited" if error.kind is ErrorKind.RATE_LIMITED else "error", row, code, message,
                   retry_after=error.retry_after, http_status=error.http_status)
    if attempts >= settings.retry_max_attempts:
        if uncertain:  # it may be out there: ask once more before calling it failed
            return _Answer(ended, next=dataclasses.replace(step, action="lookup", reason=(code, message),
                                                           if_not_found="failed"))
        return _closed(ended, "failed", code, message)
    delay = backoff_seconds(settings, attempts, error.retry_after)
    return _Answer(ended, "retry", {"next_attempt_at": utcnow() + timedelta(seconds=delay), "needs_lookup": uncertain,
                                    "last_error": _reason(code, message), "last_error_code": code})


def _end_attempts(ends: list[tuple[int, dict[str, Any]]]) -> None:
    """The attempt rows' ends, in one UPDATE (unconditional: the row tells what happened on the platform, even
    where recovery took the claim over meanwhile). Callers commit."""
    if not ends:
        return
    table = DeliveryAttempt.__table__
    conditions, exprs = _each_row(table, [(attempt_id,) for attempt_id, _end in ends],
                                  {name: [end[name] for _id, end in ends] for name in ends[0][1]})
    db.session.execute(update(table).where(*conditions).values(**exprs, ended_at=utcnow()))


def pause_channel(channel_id: int, reason: str) -> None:
    """The channel's authorisation expired: mark it, pause its waiting deliveries, tell the admins."""
    channel = db.session.get(Channel, channel_id)
    if channel is None:
        return
    already = channel.state == "needs_reconnect"
    channel.state = "needs_reconnect"
    channel.last_error = reason
    db.session.execute(
        update(Delivery).where(Delivery.channel_id == channel_id, Delivery.state == "scheduled")
        .values(state="paused", version=Delivery.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if not already:
        settings = current_settings()
        name, cid = channel.name, channel.id
        after_commit(lambda: notify.channel_needs_reconnect(settings, cid, name, reason))
    db.session.commit()


def _notify(delivery_id: int, event: str) -> None:
    notify.delivery_event(delivery_id, event)


# --- recovery --------------------------------------------------------------------------------------------


def recover_stale(settings: Settings, now: datetime | None = None) -> list[int]:
    """Deliveries stuck in ``publishing`` past their lease (their worker died): back to ``scheduled`` with
    ``needs_lookup`` set, so the next attempt asks the channel before publishing again."""
    now = now or utcnow()
    limit = now - timedelta(seconds=settings.delivery_lease_seconds)
    stale = list(db.session.scalars(select(Delivery).where(Delivery.state == "publishing",
                                                           Delivery.claimed_at < limit)))
    recovered = []
    for delivery in stale:
        result = db.session.execute(
            update(Delivery)
            .where(Delivery.id == delivery.id, Delivery.state == "publishing", Delivery.version == delivery.version,
                   Delivery.claimed_by == delivery.claimed_by)
            .values(state="scheduled", version=delivery.version + 1, claimed_by=None, needs_lookup=True,
                    next_attempt_at=None, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            for attempt in delivery.history:
                if attempt.outcome == "running":
                    attempt.outcome = "abandoned"
                    attempt.ended_at = now
                    attempt.message = f"worker {attempt.worker} stopped answering during the attempt"
            recovered.append(delivery.id)
            log.warning("delivery %s: lease of %s expired; will look it up before publishing again",
                        delivery.id, delivery.claimed_by)
    db.session.commit()
    return recovered


def resume_reconnected() -> int:
    """A safety net for the reconnect hooks: paused deliveries of channels that are connected again resume."""
    connected = select(Channel.id).where(Channel.state == "connected")
    result = db.session.execute(
        update(Delivery).where(Delivery.state == "paused", Delivery.channel_id.in_(connected))
        .values(state="scheduled", version=Delivery.version + 1, attempts=0, next_attempt_at=None,
                updated_at=utcnow())
        .execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount or 0


def due_pairs(now: datetime | None = None, limit: int = 10000) -> list[tuple[int, int, int]]:
    """(id, version, channel id) of deliveries due now, oldest first (``due_in_order``)."""
    now = now or utcnow()
    rows = db.session.execute(select(_D.id, _D.version, _D.channel_id).where(*due_filter(now))
                              .order_by(_D.scheduled_at).limit(max(1, limit)))
    return [(r[0], r[1], r[2]) for r in rows]
