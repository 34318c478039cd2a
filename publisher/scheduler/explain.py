"""Why a delivery did not go out, in Loa's own words: the one mapping from Loa's error classes to the sentences
people read, each saying what to do next.

A delivery keeps the platform's own code and message (``last_error``, the attempt rows): the evidence, shown folded
away under the explanation. The explanation is drawn when a page is shown, in the reader's language, from the
delivery's state and its last failed attempt's outcome (Loa's error class, ``publisher/scheduler/pipeline.py``);
a kind may add its own sentence for a code through its description (``error_sentences``, e.g. Zalo's codes) and
name the codes that mean a refused photo or video (``media_error_codes``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from publisher.channels.base import description
from publisher.scheduler.models import Delivery, DeliveryAttempt

# The attempt outcomes that end in a platform's error (the others: published, found, not_found, running, ...).
ERROR_OUTCOMES = frozenset({"rejected", "auth_expired", "rate_limited", "error", "duplicate", "unknown"})
# The states whose delivery has a problem to explain (``scheduled`` only while it waits to be tried again).
TROUBLED_STATES = frozenset({"failed", "unconfirmed", "paused"})

# Loa's error classes -> what happened and what to do next.
SENTENCES: dict[str, Any] = {
    "unauthorised": _l("The channel needs reconnecting: it no longer accepts Loa's permission to post (it expired or "
                       "was revoked). An administrator should reconnect the channel on the Channels page; the "
                       "delivery then goes out on its own."),
    "rate_limited": _l("The channel is limiting how often Loa may post. Loa will try again on its own later; there "
                       "is nothing to do."),
    "rate_limited_stopped": _l("The channel kept limiting how often Loa may post, so Loa stopped trying. Choose "
                               "“Retry now” a little later, or move the delivery to another time."),
    "rejected": _l("The channel refused the post as it is: %(reason)s Change the post, then choose “Retry now”."),
    "rejected_unsaid": _l("The channel refused the post as it is, without saying which part (its own answer is "
                          "below). Change the post, then choose “Retry now”."),
    "media": _l("The channel refused the photo or video: the file may be too large or in a format the channel does "
                "not take. Use a smaller file or another format, then choose “Retry now”."),
    "timeout": _l("The channel did not answer in time. Loa checks whether the post went out before trying again; "
                  "there is nothing to do."),
    "unconfirmed": _l("Loa is not sure the post went out: the channel did not give a clear answer. Check on the "
                      "channel, then choose “Retry now” (Loa looks for the post first, so it is not posted twice) or "
                      "“Cancel”."),
    "temporary": _l("The channel had a temporary problem. Loa will try again on its own; there is nothing to do."),
    "stopped": _l("The channel kept failing, so Loa stopped trying; the post is not on the channel. Choose “Retry "
                  "now” when the channel works again."),
}


@dataclass(frozen=True)
class DeliveryProblem:
    """A delivery's trouble: Loa's class (a key of :data:`SENTENCES`), Loa's sentence in the reader's language,
    and the platform's own code and message (the evidence)."""

    cause: str
    sentence: str
    code: str | None
    message: str | None


def explain_delivery(delivery: Delivery) -> DeliveryProblem | None:
    """Why ``delivery`` has not gone out and what to do, or None when nothing is wrong with it."""
    waiting = delivery.state == "scheduled" and bool(delivery.last_error)
    if delivery.state not in TROUBLED_STATES and not waiting:
        return None
    attempt = last_failed_attempt(delivery)
    code = attempt.code if attempt is not None else delivery.last_error_code
    message = attempt.message if attempt is not None else _platform_words(delivery)
    outcome = attempt.outcome if attempt is not None else None
    head = code.split("/", 1)[0] if code else ""
    try:
        described = description(delivery.channel.kind)
        own, media = described.error_sentences, described.media_error_codes
    except KeyError:  # a kind no adapter registers any more
        own, media = {}, frozenset()

    reason: Any = None
    if delivery.state == "paused" or outcome == "auth_expired":
        cause = "unauthorised"
    elif delivery.state == "unconfirmed":
        cause = "unconfirmed"
    elif head and (head in media or code in media):
        cause = "media"
    elif outcome == "rejected" or code == "validation":
        reason = own.get(code or "") or own.get(head) or (message if code == "validation" else None)
        cause = "rejected" if reason else "rejected_unsaid"
    elif outcome == "rate_limited":
        cause = "rate_limited" if waiting else "rate_limited_stopped"
    elif waiting:
        cause = "timeout" if "timeout" in (code or "").lower() else "temporary"
    else:
        cause = "stopped"
    if cause == "rejected":
        text = str(reason).strip()
        sentence = str(SENTENCES[cause]) % {"reason": text if text.endswith((".", "!", "?")) else text + "."}
    else:
        sentence = str(SENTENCES[cause])
    return DeliveryProblem(cause=cause, sentence=sentence, code=code, message=message)


def last_failed_attempt(delivery: Delivery) -> DeliveryAttempt | None:
    """The delivery's latest attempt that ended in a platform's error."""
    return next((a for a in reversed(delivery.history) if a.outcome in ERROR_OUTCOMES), None)


def _platform_words(delivery: Delivery) -> str | None:
    """The message part of ``last_error`` ("code: message")."""
    text, code = delivery.last_error, delivery.last_error_code
    if text and code and text.startswith(f"{code}: "):
        return text[len(code) + 2:]
    return text
