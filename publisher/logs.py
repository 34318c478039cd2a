"""Process logging: plain lines, or one JSON object per line (``PUBLISHER_LOG_FORMAT=json``) for log shippers.
Either way, what looks like a token, a secret or a password is masked before a line is written."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import IO, Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# access_token=…, "refresh_token": "…", client_secret=…, password=…, code=… in URLs and bodies; Bearer headers;
# Facebook tokens (EAA…) wherever they stand.
_SECRET_FIELDS = r"(?:access_token|refresh_token|input_token|client_secret|app_secret|fb_exchange_token|password|" \
                 r"secret|code_verifier|signed_request)"
_PATTERNS = (
    (re.compile(rf"({_SECRET_FIELDS}[\"']?\s*[=:]\s*[\"']?)[^\"'&\s,;}}]+", re.IGNORECASE), r"\1[redacted]"),
    (re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE), r"\1[redacted]"),
    (re.compile(r"\bEAA[A-Za-z0-9]{10,}"), "[redacted]"),
)


def redact(text: str) -> str:
    """``text`` with every secret-looking value replaced by ``[redacted]``."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFormatter(logging.Formatter):
    """The plain format, secrets masked (in the message and in a traceback alike)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, and the traceback if any; the
    fields a caller passes with ``extra=`` (a job id, a delivery id) are kept too."""

    _STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "process": record.process,
        }
        for key, value in vars(record).items():
            if key not in self._STANDARD and not key.startswith("_"):
                entry[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(log_format: str = "text", level: int | None = None, stream: IO[str] | None = None,
                      logger: logging.Logger | None = None) -> None:
    """Give the root logger's handlers (one on standard error if it has none) the chosen format. Safe to call
    again: a process that built several apps keeps one handler."""
    root = logger or logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler(stream or sys.stderr))
    elif stream is not None:
        for handler in root.handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(stream)  # type: ignore[arg-type]
    formatter: logging.Formatter = JsonFormatter() if log_format == "json" else RedactingFormatter(TEXT_FORMAT)
    for handler in root.handlers:
        handler.setFormatter(formatter)
    if level is not None:
        root.setLevel(level)
