"""Loa's settings: read once from ``PUBLISHER_*`` environment variables (and ``config/publisher.env``).

Every setting is declared in :data:`SETTINGS` with a small typed parser. Unknown ``PUBLISHER_*`` keys are
refused, so a typo in a deployment fails at start instead of silently using a default.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PREFIX = "PUBLISHER_"
ENV_FILE_NAME = "publisher.env"


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one sentence a person can act on."""


def _parse_int(minimum: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            raise SettingsError(f"expected a whole number, got {raw!r}") from None
        if value < minimum:
            raise SettingsError(f"expected a whole number of at least {minimum}, got {value}")
        return value

    return parse


def _parse_float(minimum: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            value = float(raw.strip())
        except ValueError:
            raise SettingsError(f"expected a number, got {raw!r}") from None
        if value < minimum:
            raise SettingsError(f"expected a number of at least {minimum}, got {value}")
        return value

    return parse


def _parse_url(raw: str) -> str:
    value = raw.strip()
    if not (value.startswith("http://") or value.startswith("https://")):
        raise SettingsError(f"expected an http:// or https:// URL, got {raw!r}")
    return value.rstrip("/")


def _parse_str(raw: str) -> str:
    value = raw.strip()
    if not value:
        raise SettingsError("must not be empty")
    return value


def _parse_logo(raw: str) -> Path:
    path = Path(_parse_str(raw)).expanduser()
    if path.suffix.lower() not in (".png", ".svg", ".jpg", ".jpeg", ".webp"):
        raise SettingsError(f"expected a PNG, SVG, JPEG or WebP file, got {raw!r}")
    return path


def _parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(f"expected true or false, got {raw!r}")


def _parse_choice(*choices: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in choices:
            raise SettingsError(f"expected one of {', '.join(choices)}, got {raw!r}")
        return value

    return parse


def _parse_timezone(raw: str) -> str:
    value = raw.strip()
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"unknown time zone {raw!r} (use an IANA name such as Asia/Ho_Chi_Minh)") from None
    return value


def _parse_graph_version(raw: str) -> str:
    value = raw.strip()
    if not value.startswith("v"):
        value = "v" + value
    major, _, minor = value[1:].partition(".")
    if not (major.isdigit() and minor.isdigit()):
        raise SettingsError(f"expected a Graph API version such as v27.0, got {raw!r}")
    return value


def _parse_database_url(raw: str) -> str:
    value = raw.strip()
    if not value:
        raise SettingsError("must not be empty")
    # psycopg 3 is the driver Loa ships; plain postgresql:// would ask SQLAlchemy for psycopg2.
    for plain in ("postgresql://", "postgres://"):
        if value.startswith(plain):
            return "postgresql+psycopg://" + value[len(plain) :]
    if not (value.startswith("sqlite:") or value.startswith("postgresql+")):
        raise SettingsError(f"expected a sqlite:/// or postgresql:// URL, got {raw!r}")
    return value


def _parse_redis_url(raw: str) -> str:
    value = raw.strip()
    if not (value.startswith("redis://") or value.startswith("rediss://") or value.startswith("unix://")):
        raise SettingsError(f"expected a redis:// URL, got {raw!r}")
    return value


@dataclass(frozen=True)
class Settings:
    """The resolved settings of one Loa process."""

    instance_path: Path
    database_url: str
    redis_url: str | None
    secret_key: str
    media_dir: Path
    public_url: str = "http://127.0.0.1:5000"
    facebook_graph_url: str = "https://graph.facebook.com"
    facebook_graph_video_url: str = "https://graph-video.facebook.com"
    # The Graph version Loa is built and tested against: v27.0, the latest (Graph versions page, read 2026-12-02;
    # v21.0 is available only until 21 January 2027).
    facebook_graph_version: str = "v27.0"
    youtube_api_url: str = "https://www.googleapis.com/"
    timezone: str = "Asia/Ho_Chi_Minh"
    retry_max_attempts: int = 6
    retry_base_seconds: float = 30.0
    max_image_mb: int = 40
    max_video_mb: int = 4096
    api_max_body_mb: int = 8  # a JSON request body to /api/v1 (media uploads keep max_video_mb)
    session_minutes: int = 480
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "loa@localhost"
    youtube_daily_quota: int = 10000
    channel_timeout_seconds: float = 30.0
    youtube_daily_uploads: int = 100
    google_auth_url: str = "https://accounts.google.com/o/oauth2/auth"
    google_token_url: str = "https://oauth2.googleapis.com/token"
    google_client_id: str | None = None
    google_client_secret: str | None = None
    facebook_app_id: str | None = None  # the Meta app for Facebook Login (unset: Pages connect by id + token only)
    facebook_app_secret: str | None = None
    facebook_dialog_url: str = "https://www.facebook.com"  # Facebook Login's dialog: {base}/{version}/dialog/oauth
    zalo_app_id: str | None = None  # the Zalo app through which admins connect Official Accounts (OAuth v4)
    zalo_app_secret: str | None = None
    zalo_oauth_url: str = "https://oauth.zaloapp.com"  # Zalo's OAuth v4: {base}/v4/oa/permission, /v4/oa/access_token
    zalo_api_url: str = "https://openapi.zalo.me"  # the Official Account Open API
    engagement_config: Path | None = None  # a TOML file overriding publisher/engagement/engagement.toml
    delivery_lease_seconds: float = 900.0
    publish_batch_size: int = 20
    worker_claim_threads: int = 4  # threads per `publisher worker` claiming due deliveries when woken (PostgreSQL)
    scheduler_interval_seconds: float = 1.0
    heartbeat_grace_seconds: float = 120.0
    log_format: str = "text"
    metrics_token: str | None = None
    proxy_count: int = 0  # reverse proxies in front of Loa whose X-Forwarded-For/-Proto/-Host are trusted
    media_min_free_mb: int | None = None  # `publisher check` wants this much free space for media (None: 2 videos)
    # Personal data (publisher/privacy/): how long readers' comments keep their author's identity and text,
    # and how long sign-in records and the audit log are kept.
    retention_comments_days: int = 730
    retention_signin_days: int = 90
    retention_audit_days: int = 1825
    site_name: str | None = None  # the public website's name; unset: the root unit's name
    site_logo: Path | None = None  # the public website's logo (PNG, SVG, JPEG or WebP); unset: the bundled one
    # The six-monthly and annual report's letterhead: the body above the top unit, and the place before the date
    report_superior_body: str = "Tổng Liên đoàn Lao động Việt Nam"
    report_place: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def media_min_free_bytes(self) -> int:
        """Free space ``publisher check`` asks for under the media folder: the setting, else two largest videos."""
        megabytes = self.media_min_free_mb if self.media_min_free_mb is not None else 2 * self.max_video_mb
        return megabytes * 1024 * 1024

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


# name (after the prefix) -> (Settings field, parser)
SETTINGS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "DATABASE_URL": ("database_url", _parse_database_url),
    "REDIS_URL": ("redis_url", _parse_redis_url),
    "SECRET_KEY": ("secret_key", _parse_str),
    "MEDIA_DIR": ("media_dir", lambda raw: Path(_parse_str(raw)).expanduser()),
    "INSTANCE_PATH": ("instance_path", lambda raw: Path(_parse_str(raw)).expanduser()),
    "PUBLIC_URL": ("public_url", _parse_url),
    "FACEBOOK_GRAPH_URL": ("facebook_graph_url", _parse_url),
    "FACEBOOK_GRAPH_VIDEO_URL": ("facebook_graph_video_url", _parse_url),
    "FACEBOOK_GRAPH_VERSION": ("facebook_graph_version", _parse_graph_version),
    "YOUTUBE_API_URL": ("youtube_api_url", lambda raw: _parse_url(raw) + "/"),
    "TIMEZONE": ("timezone", _parse_timezone),
    "RETRY_MAX_ATTEMPTS": ("retry_max_attempts", _parse_int(1)),
    "RETRY_BASE_SECONDS": ("retry_base_seconds", _parse_float(0)),
    "MAX_IMAGE_MB": ("max_image_mb", _parse_int(1)),
    "MAX_VIDEO_MB": ("max_video_mb", _parse_int(1)),
    "API_MAX_BODY_MB": ("api_max_body_mb", _parse_int(1)),
    "SESSION_MINUTES": ("session_minutes", _parse_int(1)),
    "SMTP_HOST": ("smtp_host", _parse_str),
    "SMTP_PORT": ("smtp_port", _parse_int(1)),
    "SMTP_FROM": ("smtp_from", _parse_str),
    "YOUTUBE_DAILY_QUOTA": ("youtube_daily_quota", _parse_int(1)),
    "CHANNEL_TIMEOUT_SECONDS": ("channel_timeout_seconds", _parse_float(0.1)),
    "YOUTUBE_DAILY_UPLOADS": ("youtube_daily_uploads", _parse_int(1)),
    "GOOGLE_AUTH_URL": ("google_auth_url", _parse_url),
    "GOOGLE_TOKEN_URL": ("google_token_url", _parse_url),
    "GOOGLE_CLIENT_ID": ("google_client_id", _parse_str),
    "GOOGLE_CLIENT_SECRET": ("google_client_secret", _parse_str),
    "FACEBOOK_APP_ID": ("facebook_app_id", _parse_str),
    "FACEBOOK_APP_SECRET": ("facebook_app_secret", _parse_str),
    "FACEBOOK_DIALOG_URL": ("facebook_dialog_url", _parse_url),
    "ZALO_APP_ID": ("zalo_app_id", _parse_str),
    "ZALO_APP_SECRET": ("zalo_app_secret", _parse_str),
    "ZALO_OAUTH_URL": ("zalo_oauth_url", _parse_url),
    "ZALO_API_URL": ("zalo_api_url", _parse_url),
    "ENGAGEMENT_CONFIG": ("engagement_config", lambda raw: Path(_parse_str(raw)).expanduser()),
    "DELIVERY_LEASE_SECONDS": ("delivery_lease_seconds", _parse_float(1)),
    "PUBLISH_BATCH_SIZE": ("publish_batch_size", _parse_int(1)),
    "WORKER_CLAIM_THREADS": ("worker_claim_threads", _parse_int(1)),
    "SCHEDULER_INTERVAL_SECONDS": ("scheduler_interval_seconds", _parse_float(0.05)),
    "HEARTBEAT_GRACE_SECONDS": ("heartbeat_grace_seconds", _parse_float(1)),
    "LOG_FORMAT": ("log_format", _parse_choice("text", "json")),
    "METRICS_TOKEN": ("metrics_token", _parse_str),
    "PROXY_COUNT": ("proxy_count", _parse_int(0)),
    "MEDIA_MIN_FREE_MB": ("media_min_free_mb", _parse_int(0)),
    "RETENTION_COMMENTS_DAYS": ("retention_comments_days", _parse_int(1)),
    "RETENTION_SIGNIN_DAYS": ("retention_signin_days", _parse_int(1)),
    "RETENTION_AUDIT_DAYS": ("retention_audit_days", _parse_int(30)),
    "SITE_NAME": ("site_name", _parse_str),
    "SITE_LOGO": ("site_logo", _parse_logo),
    "REPORT_SUPERIOR_BODY": ("report_superior_body", _parse_str),
    "REPORT_PLACE": ("report_place", _parse_str),
}


def read_env_file(path: Path) -> dict[str, str]:
    """Read a ``KEY=value`` file (``#`` comments, optional quotes); a missing file is empty."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :]
        key, sep, value = line.partition("=")
        if not sep:
            raise SettingsError(f"{path}:{number}: expected KEY=value")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def default_instance_path() -> Path:
    """``./instance`` below the current directory: where ``publisher run`` keeps its database and media."""
    return Path.cwd() / "instance"


def _secret_key_from_instance(instance_path: Path) -> str:
    """The instance's own secret key, generated on first use and kept readable only by its owner."""
    key_file = instance_path / "secret_key"
    if key_file.is_file():
        key = key_file.read_text(encoding="ascii").strip()
        if key:
            return key
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key + "\n")
    return key


def load_settings(
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    config_dir: Path | None = None,
) -> Settings:
    """Resolve settings from ``config/publisher.env``, then the environment, then ``overrides``.

    ``overrides`` takes Settings field names (``database_url``) or variable names (``PUBLISHER_DATABASE_URL``)
    with already-typed or raw values; tests pass their settings this way.
    """
    environ = os.environ if environ is None else environ
    raw: dict[str, str] = {}
    config_dir = config_dir if config_dir is not None else Path.cwd() / "config"
    for key, value in read_env_file(config_dir / ENV_FILE_NAME).items():
        raw[key] = value
    for key, value in environ.items():
        if key.startswith(PREFIX):
            raw[key] = value

    values: dict[str, Any] = {}
    for key, value in raw.items():
        name = key[len(PREFIX) :] if key.startswith(PREFIX) else key
        if name not in SETTINGS:
            raise SettingsError(f"unknown setting {key} (known: {', '.join(PREFIX + n for n in sorted(SETTINGS))})")
        attr, parser = SETTINGS[name]
        try:
            values[attr] = parser(value)
        except SettingsError as exc:
            raise SettingsError(f"{PREFIX}{name}: {exc}") from None

    field_names = {f.name for f in fields(Settings)}
    for key, value in (overrides or {}).items():
        if key.startswith(PREFIX):
            name = key[len(PREFIX) :]
            if name not in SETTINGS:
                raise SettingsError(f"unknown setting {key}")
            attr, parser = SETTINGS[name]
            values[attr] = parser(value) if isinstance(value, str) else value
        elif key in field_names:
            values[key] = value
        else:
            raise SettingsError(f"unknown setting {key}")

    instance_path = Path(values.get("instance_path") or default_instance_path()).resolve()
    values["instance_path"] = instance_path
    values.setdefault("database_url", f"sqlite:///{instance_path / 'publisher.db'}")
    values.setdefault("redis_url", None)
    values.setdefault("media_dir", instance_path / "media")
    if "secret_key" not in values:
        values["secret_key"] = _secret_key_from_instance(instance_path)
    if len(values["secret_key"]) < 16:
        raise SettingsError("PUBLISHER_SECRET_KEY: must be at least 16 characters long")
    return Settings(**values)
