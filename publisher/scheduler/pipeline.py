"""Publishing deliveries exactly once.

The order of events for one delivery:

1. ``claim``: one atomic conditional UPDATE (``state='scheduled' AND version=:v AND due``) moves it to
   ``publishing`` with ``claimed_by``/``claimed_at``, committed before the platform is called. Two workers racing
   for it: the database lets exactly one UPDATE match.
2. An attempt row is committed (the evidence if the worker dies mid-publish).
3. If the delivery ``needs_lookup`` (an earlier publish may have reached the platform without an answer), the
   channel is asked by idempotency key first: found -> published; not found -> publish; cannot tell ->
   ``unconfirmed``, a person decides.
4. The publish carries the idempotency key. The outcome is written with a conditional UPDATE that only lands while
   this worker still holds the claim.

A publish job handles a batch of deliveries with the same steps, in bulk: one claim, one load, one rate-limiter
round trip, the attempt counts and rows in two statements and one commit, the platform calls in parallel threads,
then every successful outcome in one conditional UPDATE (``CASE`` per id, landing only for the (id, version) pairs
this worker still holds) with the attempt rows' ends in the same commit. Anything unusual (a lookup first, an
error, a paused or throttled channel, a publish that cannot be prepared) takes the per-delivery functions.

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
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import (
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


_TOKEN_BUCKET = """
local tokens_key = KEYS[1]
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local data = redis.call('HMGET', tokens_key, 'tokens', 'ts')
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
redis.call('HSET', tokens_key, 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', tokens_key, math.ceil(capacity / rate) + 60)
return tostring(wait)
"""


def channel_rate(channel: Channel) -> float:
    configured = (channel.settings or {}).get("rate_per_minute")
    if isinstance(configured, (int, float)) and not isinstance(configured, bool) and configured > 0:
        return float(configured)
    description = descriptions().get(channel.kind)
    rate = description.rate_per_minute if description is not None else None
    return float(rate or FALLBACK_RATE_PER_MINUTE)


def take_token(settings: Settings, channel: Channel) -> float:
    """Take one publish token from the channel's bucket in Redis; 0 when granted, else the seconds to wait.

    Shared by every worker on every machine, so a big campaign stays under the platform's limits."""
    from publisher.queue import redis_connection

    per_minute = channel_rate(channel)
    rate = per_minute / 60.0
    capacity = max(1.0, per_minute / 6.0)  # ten seconds' worth of burst
    try:
        wait = redis_connection(settings).eval(_TOKEN_BUCKET, 1, f"loa:bucket:{channel.id}", rate, capacity,
                                               time.time())
    except Exception:  # noqa: BLE001 - without Redis there is no queue either; do not block the publish on it
        log.warning("rate limiter unavailable for channel %s; publishing without it", channel.id)
        return 0.0
    return float(wait.decode() if isinstance(wait, bytes) else wait)


# --- claiming --------------------------------------------------------------------------------------------


def due_filter(now: datetime) -> list[Any]:
    approved_posts = select(Post.id).where(Post.state == "approved")
    return [
        Delivery.state == "scheduled",
        Delivery.scheduled_at <= now,
        (Delivery.next_attempt_at.is_(None)) | (Delivery.next_attempt_at <= now),
        Delivery.post_id.in_(approved_posts),
    ]


def _at_versions(pairs: list[tuple[int, int]]) -> list[Any]:
    """Conditions: the delivery is one of these ``(id, version)`` pairs. The plain ``id IN`` list leads so that the
    statement stays a few primary-key lookups. On PostgreSQL the pairs travel as two array parameters (``unnest``):
    a short statement whatever the batch size, which the driver caches and the server prepares once, instead of
    a new text with a hundred parameters for every batch."""
    if _on_postgresql():
        batch = _batch_table(pairs)
        return [Delivery.id == any_(_int_array([i for i, _v in pairs])),
                tuple_(Delivery.id, Delivery.version).in_(select(batch.c.id, batch.c.version))]
    return [Delivery.id.in_([i for i, _v in pairs]), tuple_(Delivery.id, Delivery.version).in_([tuple(p) for p in pairs])]


def _on_postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"


def _int_array(items: list[int]) -> Any:
    return bindparam(None, [int(i) for i in items], type_=ARRAY(Integer))


def _batch_table(pairs: list[tuple[int, int]], **extra: tuple[Any, list[Any]]) -> Any:
    """``unnest(:ids, :versions, …) AS batch(id, version, …)`` (PostgreSQL): the batch as one parameter per
    column; ``extra`` adds columns, name -> (type, values in the pairs' order)."""
    return _unnest(id=(Integer, [int(i) for i, _v in pairs]), version=(Integer, [int(v) for _i, v in pairs]), **extra)


def _unnest(**columns: tuple[Any, list[Any]]) -> Any:
    """``unnest(:a, :b, …) AS batch(a, b, …)``: rows given as one array parameter per column (PostgreSQL)."""
    arrays = [bindparam(None, list(values_), type_=ARRAY(type_)) for type_, values_ in columns.values()]
    return func.unnest(*arrays).table_valued(*[column(name, type_) for name, (type_, _v) in columns.items()]) \
        .render_derived(name="batch", with_types=False)


def claim(pairs: list[tuple[int, int]], worker: str, now: datetime | None = None) -> list[int]:
    """Claim the due deliveries among (id, version) pairs for this worker and commit; returns the claimed ids.

    One conditional UPDATE: a delivery whose version changed (edit, reschedule, cancel), that is not due, or that
    another worker claimed first is simply not matched. On PostgreSQL rows locked by a concurrent claim are
    skipped (SKIP LOCKED) instead of waited for."""
    if not pairs:
        return []
    now = now or utcnow()
    if db.engine.dialect.name == "postgresql":
        # The pairs drive the statement (a VALUES list joined on the primary key): the plan stays a few index
        # lookups even right after thousands of deliveries were scheduled, before their statistics are fresh.
        wanted = _batch_table(pairs)
        lockable = (select(Delivery.id).join(wanted, (Delivery.id == wanted.c.id) & (Delivery.version == wanted.c.version))
                    .where(*due_filter(now)).with_for_update(of=Delivery, skip_locked=True))
        # The rows just locked matched every condition and nobody else can change them until this commits.
        statement = update(Delivery).where(Delivery.id.in_(lockable.scalar_subquery()))
    else:
        statement = update(Delivery).where(*_at_versions(pairs), *due_filter(now))
    statement = (statement.values(state="publishing", claimed_by=worker, claimed_at=now, updated_at=now)
                 .returning(Delivery.id).execution_options(synchronize_session=False))
    try:
        ids = list(db.session.scalars(statement))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return ids


def claim_due(worker: str, limit: int, now: datetime | None = None) -> list[int]:
    """PostgreSQL: claim up to ``limit`` due deliveries, oldest first, straight from the table, and commit; returns
    the claimed ids. Rows another worker is claiming are skipped (``FOR UPDATE SKIP LOCKED``), so any number of
    workers drain the same due minute without waiting for each other and without any of them getting a row twice.
    This is how woken workers take work (see ``publish_due``); SQLite keeps the RQ job per batch."""
    now = now or utcnow()
    lockable = (select(Delivery.id).where(*due_filter(now)).order_by(Delivery.scheduled_at, Delivery.id)
                .limit(max(1, limit)).with_for_update(of=Delivery, skip_locked=True))
    statement = (update(Delivery).where(Delivery.id.in_(lockable.scalar_subquery()))
                 .values(state="publishing", claimed_by=worker, claimed_at=now, updated_at=now)
                 .returning(Delivery.id).execution_options(synchronize_session=False))
    try:
        ids = list(db.session.scalars(statement))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return ids


def publish_due(limit: int, now: datetime | None = None) -> dict[str, int]:
    """Claim one batch of due deliveries from the database (``claim_due``) and publish it; {} when nothing was
    due. A woken worker calls this until it returns {}."""
    worker = worker_name()
    ids = claim_due(worker, limit, now)
    if not ids:
        return {}
    return publish_claimed_batch(ids, worker)


def claims_directly(settings: Settings) -> bool:
    """Whether workers claim due deliveries from the database when woken (PostgreSQL and a real Redis) rather than
    through one RQ job per batch (SQLite and the embedded mode)."""
    return bool(settings.redis_url) and _on_postgresql()


def _finish(delivery: Delivery, worker: str, **values: Any) -> bool:
    """Write the outcome only while this worker still holds the claim (recovery may have taken it over)."""
    values.setdefault("updated_at", utcnow())
    result = db.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery.id, Delivery.state == "publishing", Delivery.claimed_by == worker,
               Delivery.version == delivery.version)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        log.warning("delivery %s: claim lost before the outcome could be written (%s)", delivery.id, values)
        return False
    return True


# --- publishing ------------------------------------------------------------------------------------------


def _error_fields(exc: BaseException) -> tuple[str | None, str]:
    if isinstance(exc, ChannelError):
        code = "/".join(x for x in (exc.code, exc.subcode) if x) or (str(exc.http_status) if exc.http_status else None)
        return code or exc.kind.value, exc.platform_message or exc.message
    return exc.__class__.__name__, str(exc) or exc.__class__.__name__


def _reason(code: str | None, message: str) -> str:
    return f"{code}: {message}" if code else message


def publish_deliveries(pairs: list[tuple[int, int]], now: datetime | None = None) -> dict[str, int]:
    """Claim a batch of due deliveries and publish the claimed ones, overlapping the platforms' waits.

    The database work is done per batch, not per delivery: one claim, one load, one rate-limiter round trip, one
    statement counting the attempts (only where the claim is still held) plus one multi-row insert of the attempt
    rows, committed before any platform is called; then the publishes in parallel threads; then one conditional
    UPDATE writing every successful outcome (again only where the claim is still held) and the attempt rows'
    ends, in one commit. Everything unusual (a lookup first, an error, a paused or throttled channel) takes the
    per-delivery path below."""
    worker = worker_name()
    ids = claim(pairs, worker, now)
    if not ids:
        return {}
    return publish_claimed_batch(ids, worker)


def _pool() -> ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=MAX_PARALLEL_PUBLISHES, thread_name_prefix="publish")
        return _POOL


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()
_SQLITE_TURNS = threading.Lock()


def _count(outcomes: dict[str, int], outcome: str, n: int = 1) -> None:
    if n:
        outcomes[outcome] = outcomes.get(outcome, 0) + n




@dataclass(frozen=True)
class _Claimed:
    """A claimed delivery as a plain row: the batch path reads no ORM objects (they cost more than the publish)."""

    id: int
    version: int
    post_id: int
    channel_id: int
    idempotency_key: str
    needs_lookup: bool


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
    def key(channel: Channel) -> tuple[int, Any]:
        return channel.id, channel.updated_at

    def checkout(self, key: tuple[int, Any], channel: Channel, settings: Settings) -> Any:
        with self._lock:
            idle = self._idle.get(key)
            if idle:
                return idle.pop()
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


def publish_claimed_batch(ids: list[int], worker: str) -> dict[str, int]:
    """Publish deliveries this worker has claimed (see ``publish_deliveries``); returns outcome counts.

    Set-based: the claimed rows in one statement, their channels in one, paused and rate-limited ones put back in
    one statement each, the attempt counts and rows in two, the successful outcomes and their attempts' ends in
    two; each post's request is built once for the batch and each channel's adapter comes from the worker's pool.
    Only the unusual deliveries (a look-up first, an error) take the per-delivery functions."""
    settings = current_settings()
    outcomes: dict[str, int] = {}
    rows = [_Claimed(*row) for row in db.session.execute(
        select(Delivery.id, Delivery.version, Delivery.post_id, Delivery.channel_id, Delivery.idempotency_key,
               Delivery.needs_lookup)
        .where(_in_ids(Delivery.id, ids), Delivery.state == "publishing", Delivery.claimed_by == worker)
        .order_by(Delivery.id))]
    _count(outcomes, "skipped", len(ids) - len(rows))
    if not rows:
        return outcomes
    channels = {c.id: c for c in db.session.scalars(
        select(Channel).where(_in_ids(Channel.id, sorted({r.channel_id for r in rows}))))}
    pool_keys = {cid: AdapterPool.key(channel) for cid, channel in channels.items()}  # read before any commit

    pausing = [r for r in rows if channels[r.channel_id].state in PAUSING_STATES]
    _count(outcomes, "paused", _put_back(pausing, worker, state="paused"))
    ready = [r for r in rows if channels[r.channel_id].state not in PAUSING_STATES]
    waits = take_tokens(settings, [channels[r.channel_id] for r in ready])
    # Over the channel's rate: back in the queue without spending an attempt.
    over = {r: wait for r, wait in zip(ready, waits, strict=True) if wait > 0}
    _count(outcomes, "deferred", _put_back(list(over), worker, state="scheduled", retry_in=over))
    go = [r for r in ready if r not in over]
    if pausing or over:
        db.session.commit()

    lookups = [r.id for r in go if r.needs_lookup]
    prepared = _prepare([r for r in go if not r.needs_lookup], channels, pool_keys, worker, settings, outcomes)
    attempts = _start_publish_attempts(prepared, worker)
    _count(outcomes, "skipped", len(prepared) - len(attempts))  # claim lost meanwhile: not published
    try:
        prepared = [item for item in prepared if item[0].id in attempts]
        lookup_futures, results = _run_platform_calls(lookups, prepared, worker)

        published = [(row, result) for (row, _adapter, _request), (result, exc) in zip(prepared, results, strict=True)
                     if exc is None]
        written = _published_batch(published, attempts, worker)
        _count(outcomes, "published", written)
        _count(outcomes, "skipped", len(published) - written)
        db.session.commit()

        for (row, adapter, request), (_result, exc) in zip(prepared, results, strict=True):
            if exc is not None:
                _count(outcomes, _batch_failure(row, attempts[row.id], adapter, request, exc, worker))
        # A platform that refreshed a channel's access token (YouTube) hands it back: keep it, encrypted.
        if any([keep_refreshed_secrets(channels[row.channel_id], adapter, settings) for row, adapter, _r in prepared]):
            db.session.commit()
    finally:
        for row, adapter, _request in prepared:
            ADAPTERS.checkin(pool_keys[row.channel_id], adapter)
    for future in lookup_futures:
        _count(outcomes, future.result())
    return outcomes


def _in_ids(column_: Any, ids: list[int]) -> Any:
    """``column IN ids``; on PostgreSQL ``= ANY(:ids)``, one array parameter (see ``_at_versions``)."""
    return column_ == any_(_int_array(ids)) if _on_postgresql() else column_.in_(ids)


def _put_back(rows: list[_Claimed], worker: str, *, state: str, retry_in: dict[_Claimed, float] | None = None) -> int:
    """Release claimed deliveries without an attempt (a paused channel, a rate limit) in one conditional UPDATE,
    with a new version so that a queued job for the old one does nothing; returns how many. Callers commit."""
    if not rows:
        return 0
    now = utcnow()
    values: dict[str, Any] = {"state": state, "version": Delivery.version + 1, "claimed_by": None, "updated_at": now}
    if retry_in:
        values["next_attempt_at"] = case(
            {r.id: bindparam(None, now + timedelta(seconds=w), type_=Delivery.__table__.c.next_attempt_at.type)
             for r, w in retry_in.items()}, value=Delivery.id)
    result = db.session.execute(
        update(Delivery).where(*_at_versions([(r.id, r.version) for r in rows]), Delivery.state == "publishing",
                               Delivery.claimed_by == worker)
        .values(**values).execution_options(synchronize_session=False))
    return result.rowcount or 0


def _prepare(rows: list[_Claimed], channels: dict[int, Channel], pool_keys: dict[int, Any], worker: str,
             settings: Settings, outcomes: dict[str, int]) -> list[tuple[_Claimed, Any, Any]]:
    """(row, adapter, request) for each delivery to publish: the posts loaded in one query, each post's request
    built once per channel kind and given each delivery's idempotency key, the adapters from the pool."""
    if not rows:
        return []
    posts = {p.id: p for p in db.session.scalars(
        select(Post).where(_in_ids(Post.id, sorted({r.post_id for r in rows})))
        .options(selectinload(Post.variants), selectinload(Post.media_links)))}
    built: dict[tuple[int, str], Any] = {}
    prepared: list[tuple[_Claimed, Any, Any]] = []
    for row in rows:
        channel = channels[row.channel_id]
        try:
            key = (row.post_id, channel.kind)
            if key not in built:
                built[key] = build_request(posts[row.post_id], channel, row.idempotency_key, settings)
            request = dataclasses.replace(built[key], idempotency_key=row.idempotency_key)
            adapter = ADAPTERS.checkout(pool_keys[row.channel_id], channel, settings)
        except Exception as exc:  # noqa: BLE001 - no adapter for the kind, unreadable secrets, a missing media file
            log.exception("delivery %s: cannot prepare the publish", row.id)
            delivery = db.session.get(Delivery, row.id)
            assert delivery is not None
            _count(outcomes, _prepare_failed(delivery, worker, exc))
            continue
        prepared.append((row, adapter, request))
    return prepared


def _run_platform_calls(lookups: list[int], prepared: list[tuple[_Claimed, Any, Any]],
                        worker: str) -> tuple[list[Any], list[tuple[Any, BaseException | None]]]:
    """The platform calls of the batch, overlapped in the worker's threads: look-ups take the per-delivery path,
    publishes the prepared requests. Returns the look-ups' futures and each publish's (result, error)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    # SQLite has one writer at a time and refuses (rather than waits for) a read transaction that wants to
    # become a write one while another thread writes: there the publishes of a batch take turns.
    turns = _SQLITE_TURNS if db.engine.dialect.name == "sqlite" else contextlib.nullcontext()

    def run_lookup(delivery_id: int) -> str:
        with turns, app.app_context():
            try:
                return publish_claimed(delivery_id, worker, token_taken=True)
            finally:
                db.session.remove()

    def run_publish(item: tuple[_Claimed, Any, Any]) -> tuple[Any, BaseException | None]:
        # Adapters backed by this database (the website, the YouTube quota) write through the thread's own
        # session, committed here like a remote platform's side of the publish: the outcome comes after.
        with turns, app.app_context():
            try:
                result, error = item[1].publish(item[2]), None
            except Exception as exc:  # noqa: BLE001 - classified below, in the calling thread
                result, error = None, exc
            try:
                db.session.commit()
            except Exception:  # noqa: BLE001 - a failed publish may leave the session unusable
                db.session.rollback()
            finally:
                db.session.remove()
            return result, error

    pool = _pool()
    lookup_futures = [pool.submit(run_lookup, i) for i in lookups]
    if len(prepared) == 1:  # nothing to overlap: no hand-over to a thread
        return lookup_futures, [run_publish(prepared[0])]
    return lookup_futures, list(pool.map(run_publish, prepared))


def _batch_failure(row: _Claimed, attempt: tuple[int, int], adapter: Any, request: Any, exc: BaseException,
                   worker: str) -> str:
    """A publish of the batch that failed: the per-delivery error handling, with the rows loaded for it."""
    delivery = db.session.get(Delivery, row.id)
    attempt_row = db.session.get(DeliveryAttempt, attempt[0])
    assert delivery is not None and attempt_row is not None
    if not isinstance(exc, ChannelError):
        log.error("delivery %s: unexpected publish failure", row.id, exc_info=exc)
        exc = ChannelError(ErrorKind.TRANSIENT, str(exc) or exc.__class__.__name__, code=exc.__class__.__name__)
    return _handle_error(delivery, worker, attempt_row, attempt[1], exc, adapter, request)


def take_tokens(settings: Settings, channels: list[Channel]) -> list[float]:
    """``take_token`` for several deliveries' channels in one Redis round trip (in order)."""
    if not channels:
        return []
    if len(channels) == 1:
        return [take_token(settings, channels[0])]
    from publisher.queue import redis_connection

    try:
        pipe = redis_connection(settings).pipeline(transaction=False)
        for channel in channels:
            per_minute = channel_rate(channel)
            pipe.eval(_TOKEN_BUCKET, 1, f"loa:bucket:{channel.id}", per_minute / 60.0, max(1.0, per_minute / 6.0),
                      time.time())
        waits = pipe.execute()
    except Exception:  # noqa: BLE001 - as in take_token
        log.warning("rate limiter unavailable; publishing without it")
        return [0.0] * len(channels)
    return [float(w.decode() if isinstance(w, bytes) else w) for w in waits]


def _prepare_failed(delivery: Delivery, worker: str, exc: BaseException) -> str:
    attempt = _start_attempt(delivery, worker, "publish")
    code, message = exc.__class__.__name__, str(exc) or exc.__class__.__name__
    _end_attempt(attempt, "error", code, message)
    if delivery.needs_lookup:
        return _unconfirmed(delivery, worker, code, message)
    return _failed(delivery, worker, code, message)


def _start_publish_attempts(prepared: list[tuple[_Claimed, Any, Any]], worker: str) -> dict[int, tuple[int, int]]:
    """Count one more attempt and insert its row for each delivery whose claim this worker still holds, in two
    statements and one commit, before the platform is called; {delivery id: (attempt row id, attempt number)}."""
    if not prepared:
        return {}
    pairs = [(r.id, r.version) for r, _a, _q in prepared]
    counted = dict(db.session.execute(
        update(Delivery)
        .where(*_at_versions(pairs), Delivery.state == "publishing", Delivery.claimed_by == worker)
        .values(attempts=Delivery.attempts + 1)
        .returning(Delivery.id, Delivery.attempts)
        .execution_options(synchronize_session=False)).all())
    for row, _adapter, _request in prepared:
        if row.id not in counted:
            log.warning("delivery %s: claim lost before the publish; not published", row.id)
    rows = [r for r, _a, _q in prepared if r.id in counted]
    started: dict[int, tuple[int, int]] = {}
    if rows:
        now = utcnow()
        table = DeliveryAttempt.__table__
        if _on_postgresql():
            batch = _batch_table([(r.id, r.version) for r in rows])
            inserted = db.session.execute(
                insert(table).from_select(
                    ["delivery_id", "action", "worker", "outcome", "started_at", "details"],
                    select(batch.c.id, literal("publish"), literal(worker[:200]), literal("running"),
                           literal(now, type_=table.c.started_at.type),
                           func.jsonb_build_object("version", batch.c.version)))
                .returning(table.c.id, table.c.delivery_id))
        else:
            inserted = db.session.execute(
                insert(table).returning(table.c.id, table.c.delivery_id, sort_by_parameter_order=True),
                [{"delivery_id": r.id, "action": "publish", "worker": worker[:200], "outcome": "running",
                  "started_at": now, "details": {"version": r.version}} for r in rows])
        started = {delivery_id: (attempt_id, counted[delivery_id]) for attempt_id, delivery_id in inserted}
    db.session.commit()
    return started


def _published_batch(items: list[tuple[_Claimed, Any]], attempts: dict[int, tuple[int, int]], worker: str) -> int:
    """Write the outcome of every successful publish in one conditional UPDATE (landing only where this worker
    still holds the claim of that version) and the ends of their attempts in one more; notifies for those it
    wrote; returns how many. Callers commit."""
    if not items:
        return 0
    now = utcnow()
    warnings_type = Delivery.__table__.c.warnings.type

    def by_id(values: dict[int, Any], type_: Any = None) -> Any:
        return case({i: bindparam(None, v, type_=type_) for i, v in values.items()}, value=Delivery.id)

    attempt_table = DeliveryAttempt.__table__
    if _on_postgresql():
        ends = _unnest(id=(Integer, [attempts[r.id][0] for r, _res in items]),
                       remote_id=(String, [res.remote_id for _r, res in items]),
                       remote_url=(String, [res.remote_url or None for _r, res in items]))
        db.session.execute(update(attempt_table).where(attempt_table.c.id == ends.c.id)
                           .values(outcome="published", ended_at=now, remote_id=ends.c.remote_id,
                                   remote_url=ends.c.remote_url))
        batch = _batch_table([(r.id, r.version) for r, _res in items],
                             remote_id=(String, [res.remote_id for _r, res in items]),
                             remote_url=(String, [res.remote_url or None for _r, res in items]),
                             warnings=(String, [json.dumps(list(res.warnings)) for _r, res in items]))
        outcome = (update(Delivery).where(Delivery.id == batch.c.id, Delivery.version == batch.c.version)
                   .values(remote_id=batch.c.remote_id, remote_url=batch.c.remote_url,
                           warnings=cast(batch.c.warnings, JSONB)))
    else:
        db.session.execute(
            update(attempt_table).where(attempt_table.c.id == bindparam("attempt_id"))
            .values(outcome="published", ended_at=now, remote_id=bindparam("result_id"),
                    remote_url=bindparam("result_url")),
            [{"attempt_id": attempts[r.id][0], "result_id": res.remote_id, "result_url": res.remote_url or None}
             for r, res in items])
        outcome = (update(Delivery).where(*_at_versions([(r.id, r.version) for r, _res in items]))
                   .values(remote_id=by_id({r.id: res.remote_id for r, res in items}, String()),
                           remote_url=by_id({r.id: res.remote_url or None for r, res in items}, String()),
                           warnings=by_id({r.id: list(res.warnings) for r, res in items}, warnings_type)))
    written = set(db.session.scalars(
        outcome.where(Delivery.state == "publishing", Delivery.claimed_by == worker)
        .values(state="published", published_at=now, claimed_by=None, last_error=None, last_error_code=None,
                needs_lookup=False, next_attempt_at=None, updated_at=now)
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)))
    for row, _result in items:
        if row.id not in written:
            log.warning("delivery %s: claim lost before the outcome could be written (published)", row.id)
    if written and db.session.scalar(select(Webhook.id).where(Webhook.active.is_(True)).limit(1)) is not None:
        for delivery_id in sorted(written):
            _notify(delivery_id, "delivery.published")
    return len(written)


def publish_claimed(delivery_id: int, worker: str, token_taken: bool = False) -> str:
    """Publish one delivery this worker has claimed; returns the outcome. Commits its own progress."""
    settings = current_settings()
    # One round trip for the delivery, its channel and post, and the post's variants and media.
    delivery = db.session.scalar(
        select(Delivery).where(Delivery.id == delivery_id)
        .options(joinedload(Delivery.channel), joinedload(Delivery.post).selectinload(Post.variants),
                 joinedload(Delivery.post).selectinload(Post.media_links))
        .execution_options(populate_existing=True))
    if delivery is None or delivery.state != "publishing" or delivery.claimed_by != worker:
        return "skipped"
    channel = delivery.channel
    if channel.state in PAUSING_STATES:
        _finish(delivery, worker, state="paused", version=delivery.version + 1, claimed_by=None)
        db.session.commit()
        return "paused"
    wait = 0.0 if token_taken else take_token(settings, channel)
    if wait > 0:
        # Over the channel's rate: back in the queue without spending an attempt.
        _finish(delivery, worker, state="scheduled", version=delivery.version + 1, claimed_by=None,
                next_attempt_at=utcnow() + timedelta(seconds=wait))
        db.session.commit()
        return "deferred"

    try:
        request = build_request(delivery.post, channel, delivery.idempotency_key, settings)
        adapter = adapter_for(channel, settings)
    except Exception as exc:  # noqa: BLE001 - no adapter for the kind, unreadable secrets, a missing media file
        log.exception("delivery %s: cannot prepare the publish", delivery.id)
        return _prepare_failed(delivery, worker, exc)

    try:
        return _publish_with(delivery, worker, adapter, request, settings)
    finally:
        # A platform that refreshed the channel's access token (YouTube) hands it back: keep it, encrypted.
        if keep_refreshed_secrets(channel, adapter, settings):
            db.session.commit()


def _publish_with(delivery: Delivery, worker: str, adapter: Any, request: Any, settings: Settings) -> str:
    if delivery.needs_lookup:
        decided = _look_up(delivery, worker, adapter, request)
        if decided is not None:
            return decided
        delivery.needs_lookup = False
        db.session.execute(update(Delivery).where(Delivery.id == delivery.id).values(needs_lookup=False)
                           .execution_options(synchronize_session=False))
        db.session.commit()

    attempt_number = delivery.attempts + 1
    db.session.execute(update(Delivery).where(Delivery.id == delivery.id).values(attempts=attempt_number)
                       .execution_options(synchronize_session=False))
    attempt = _start_attempt(delivery, worker, "publish")  # committed with the count, before the platform call
    try:
        result = adapter.publish(request)
    except ChannelError as exc:
        return _handle_error(delivery, worker, attempt, attempt_number, exc, adapter, request)
    except Exception as exc:  # noqa: BLE001 - an unclassified failure may have reached the platform
        log.exception("delivery %s: unexpected publish failure", delivery.id)
        error = ChannelError(ErrorKind.TRANSIENT, str(exc) or exc.__class__.__name__, code=exc.__class__.__name__)
        return _handle_error(delivery, worker, attempt, attempt_number, error, adapter, request)
    _end_attempt(attempt, "published", None, None, result.remote_id, result.remote_url)
    return _published(delivery, worker, result.remote_id, result.remote_url, list(result.warnings))


def _start_attempt(delivery: Delivery, worker: str, action: str) -> DeliveryAttempt:
    attempt = DeliveryAttempt(delivery_id=delivery.id, action=action, worker=worker[:200], outcome="running",
                              started_at=utcnow(), details={"version": delivery.version})
    db.session.add(attempt)
    db.session.commit()
    return attempt


def _end_attempt(attempt: DeliveryAttempt, outcome: str, code: str | None, message: str | None,
                 remote_id: str | None = None, remote_url: str | None = None, **details: Any) -> None:
    attempt.outcome = outcome
    attempt.ended_at = utcnow()
    attempt.code = code[:100] if code else None
    attempt.message = message
    attempt.remote_id = remote_id
    attempt.remote_url = remote_url or None
    if details:
        attempt.details = {**(attempt.details or {}), **details}


def _published(delivery: Delivery, worker: str, remote_id: str, remote_url: str | None,
               warnings: list[str]) -> str:
    now = utcnow()
    if _finish(delivery, worker, state="published", remote_id=remote_id, remote_url=remote_url or None,
               published_at=now, claimed_by=None, last_error=None, last_error_code=None, warnings=warnings,
               needs_lookup=False, next_attempt_at=None):
        _notify(delivery.id, "delivery.published")
    db.session.commit()
    return "published"


def _unconfirmed(delivery: Delivery, worker: str, code: str | None, message: str) -> str:
    if _finish(delivery, worker, state="unconfirmed", claimed_by=None, needs_lookup=True,
               last_error=_reason(code, message), last_error_code=code):
        _notify(delivery.id, "delivery.unconfirmed")
    db.session.commit()
    return "unconfirmed"


def _failed(delivery: Delivery, worker: str, code: str | None, message: str) -> str:
    if _finish(delivery, worker, state="failed", claimed_by=None, last_error=_reason(code, message),
               last_error_code=code, next_attempt_at=None):
        _notify(delivery.id, "delivery.failed")
    db.session.commit()
    return "failed"


def _handle_error(delivery: Delivery, worker: str, attempt: DeliveryAttempt, attempt_number: int,
                  exc: ChannelError, adapter: Any, request: Any) -> str:
    settings = current_settings()
    code, message = _error_fields(exc)
    if exc.kind is ErrorKind.DUPLICATE:
        _end_attempt(attempt, "duplicate", code, message)
        db.session.commit()
        return _look_up(delivery, worker, adapter, request, (code, message)) or _unconfirmed(delivery, worker, code,
                                                                                            message)
    if exc.kind is ErrorKind.REJECTED:
        _end_attempt(attempt, "rejected", code, message)
        return _failed(delivery, worker, code, message)
    if exc.kind is ErrorKind.AUTH_EXPIRED:
        _end_attempt(attempt, "auth_expired", code, message)
        _finish(delivery, worker, state="paused", version=delivery.version + 1, claimed_by=None,
                last_error=_reason(code, message), last_error_code=code, attempts=0)
        db.session.commit()
        pause_channel(delivery.channel_id, _reason(code, message))
        return "paused"
    # TRANSIENT or RATE_LIMITED: retry later, unless the round is spent.
    uncertain = exc.kind is ErrorKind.TRANSIENT  # a time-out or 5xx may have been accepted: look before retrying
    _end_attempt(attempt, "rate_limited" if exc.kind is ErrorKind.RATE_LIMITED else "error", code, message,
                 retry_after=exc.retry_after, http_status=exc.http_status)
    if attempt_number >= settings.retry_max_attempts:
        if uncertain:
            # It may be out there: ask once more before calling it failed.
            return _look_up(delivery, worker, adapter, request, (code, message)) or _failed(delivery, worker, code,
                                                                                            message)
        return _failed(delivery, worker, code, message)
    delay = backoff_seconds(settings, attempt_number, exc.retry_after)
    _finish(delivery, worker, state="scheduled", version=delivery.version + 1, claimed_by=None,
            next_attempt_at=utcnow() + timedelta(seconds=delay), needs_lookup=uncertain,
            last_error=_reason(code, message), last_error_code=code)
    db.session.commit()
    return "retry"


def _look_up(delivery: Delivery, worker: str, adapter: Any, request: Any,
             reason: tuple[str | None, str] | None = None) -> str | None:
    """The one look-up step: ask the channel by idempotency key, with an attempt row of its own. Found: published.
    Cannot tell: ``unconfirmed`` (with ``reason``, the error that led here, else the look-up's own), a person
    decides with the evidence. Not found: None, and the caller decides (publish, unconfirmed, failed)."""
    attempt = _start_attempt(delivery, worker, "lookup")
    try:
        found = adapter.find_existing(request)
    except Exception as exc:  # noqa: BLE001 - cannot tell
        lcode, lmessage = _error_fields(exc)
        _end_attempt(attempt, "unknown", lcode, lmessage)
        return _unconfirmed(delivery, worker, *(reason or (lcode, lmessage)))
    if found is not None:
        _end_attempt(attempt, "found", None, None, found.remote_id, found.remote_url)
        return _published(delivery, worker, found.remote_id, found.remote_url, list(found.warnings))
    _end_attempt(attempt, "not_found", None, None)
    return None


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
    """(id, version, channel id) of deliveries due now, oldest first."""
    now = now or utcnow()
    rows = db.session.execute(select(Delivery.id, Delivery.version, Delivery.channel_id).where(*due_filter(now))
                              .order_by(Delivery.scheduled_at, Delivery.id).limit(limit))
    return [(r[0], r[1], r[2]) for r in rows]
