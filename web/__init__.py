"""The Flask application: editorial UI under /admin/, the JSON API under /api/v1, the public website at /."""

from __future__ import annotations

import gc
import importlib
import logging
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, g, request
from flask_babel import Babel
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from publisher import labels
from publisher.db import MAX_ID, db
from publisher.logs import configure_logging
from publisher.settings import Settings, load_settings
from web.uploads import LoaRequest

log = logging.getLogger(__name__)

MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")
LOCALES = ("vi", "en")

# Every area's blueprint, registered in this order (each area adds one line).
BLUEPRINTS: tuple[str, ...] = (
    "web.api:bp",
    "web.editorial:bp",
    "web.public:bp",
    "web.kits_ui:bp",
    "web.youtube_oauth:bp",
    "web.channels_ui:bp",
    "web.channels_ui.meta:bp",
    "web.feeds_ui:bp",
    "web.moderation:bp",
    "web.reports:bp",
    "web.calendar_ui:bp",
    "web.metrics:bp",
    "web.privacy_ui:bp",
)

migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob: https:; media-src 'self' blob:; style-src 'self'; "
    "script-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'self'; form-action 'self'"
)


# Sent on HTTPS answers only: browsers then refuse plain HTTP to this host for a year.
STRICT_TRANSPORT_SECURITY = "max-age=31536000"


def translation_directories() -> str:
    """Each area keeps its own catalogue under ``web/translations/<area>/``; Flask-Babel merges them."""
    root = Path(__file__).resolve().parent / "translations"
    return ";".join(str(p) for p in sorted(root.iterdir()) if p.is_dir()) if root.is_dir() else str(root)


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: an id never exceeds the database's integer range, so larger numbers are 404."""

    def __init__(self, map: Any, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_ID,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def current_settings() -> Settings:
    from flask import current_app

    return current_app.extensions["publisher.settings"]


def select_locale() -> str:
    user = getattr(g, "api_user", None)
    if user is None and current_user and current_user.is_authenticated:
        user = current_user
    if user is not None and user.locale in LOCALES:
        return user.locale
    return "vi"


def create_app(config: Mapping[str, Any] | None = None, settings: Settings | None = None) -> Flask:
    """Build the app. ``config`` takes setting overrides (``database_url``…) and Flask keys (``TESTING``)."""
    config = dict(config or {})
    flask_keys = {k: config.pop(k) for k in list(config) if k.isupper() and not k.startswith("PUBLISHER_")}
    settings = settings or load_settings(overrides=config)

    app = Flask(__name__, instance_path=str(settings.instance_path), instance_relative_config=False)
    app.request_class = LoaRequest  # media uploads checked on their first bytes (web/uploads.py)
    app.url_map.converters["int"] = IdConverter  # before any route is added: /posts/99999999999 is a 404
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(settings),
        MAX_CONTENT_LENGTH=(settings.max_video_mb + 16) * 1024 * 1024,
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.session_minutes),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="loa_session",
        REMEMBER_COOKIE_HTTPONLY=True,
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_DEFAULT_LOCALE="vi",
        BABEL_DEFAULT_TIMEZONE=settings.timezone,
        BABEL_TRANSLATION_DIRECTORIES=translation_directories(),
        JSON_SORT_KEYS=False,
    )
    app.config.update(flask_keys)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["publisher.settings"] = settings
    settings.media_dir.mkdir(parents=True, exist_ok=True)

    import publisher.hierarchy.services  # noqa: F401  (registers the kits' visibility rule as a content hook)
    import publisher.models  # noqa: F401  (the whole schema, for Alembic and relationships)
    from publisher.channels.base import descriptions
    from publisher.channels.description import check_variant
    from publisher.content.variants import use_channel_descriptions

    use_channel_descriptions(descriptions, check_variant)  # content reads the kinds' descriptions, never imports them
    labels.use_kind_names(lambda: {kind: d.tab_label for kind, d in descriptions().items()})

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, compare_type=True, render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "editorial.login"
    # Flask-Login's own prompt, in the reader's language (str() translates the lazy string per request).
    login_manager.login_message = _l("Please log in to access this page.")
    login_manager.localize_callback = str
    login_manager.session_protection = "basic"

    from web.auth import load_user

    login_manager.user_loader(load_user)

    from web import filters

    filters.init_app(app)

    for target in BLUEPRINTS:
        module_name, _, attr = target.partition(":")
        app.register_blueprint(getattr(importlib.import_module(module_name), attr))
    from web.api import bp as api_bp

    csrf.exempt(api_bp)

    from web import errors
    from web.public.compression import init_compression

    errors.init_app(app)
    init_compression(app)
    app.after_request(_security_headers)
    app.wsgi_app = SecureCookiesOverHttps(app.wsgi_app)  # type: ignore[method-assign]
    if settings.proxy_count:
        # The proxies' X-Forwarded-For/-Proto/-Host become the client's address, scheme and host (sign-in lock-out,
        # Secure cookies, absolute URLs); without PUBLISHER_PROXY_COUNT those headers are ignored, so nobody can
        # forge them.
        n = settings.proxy_count
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    if not app.testing:
        configure_logging(settings.log_format)
        _freeze_startup_heap()
    return app


def _freeze_startup_heap() -> None:
    """The modules, the app and its caches live as long as the process: move them out of the garbage collector's
    reach (``gc.freeze``), so that its full collections, which a large report's allocations set off, walk only what
    requests make rather than the whole start-up heap (a province's roll-up dashboard: about a third faster).
    Not for test apps: a test session builds hundreds of apps that must stay collectable."""
    gc.collect()
    gc.freeze()


def _engine_options(settings: Settings) -> dict[str, Any]:
    if settings.is_sqlite:
        return {"connect_args": {"check_same_thread": False, "timeout": 30}}
    return {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20}


class SecureCookiesOverHttps:
    """WSGI middleware: on an HTTPS request every cookie set (the session, Flask-Login's remember cookie, any
    other) carries ``Secure``. It sits inside ProxyFix, so "HTTPS" includes a TLS-terminating proxy's
    ``X-Forwarded-Proto: https``; at the WSGI edge it sees cookies written after every ``after_request`` hook."""

    def __init__(self, wsgi_app: Any) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("wsgi.url_scheme") != "https":
            return self.wsgi_app(environ, start_response)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers = [(k, _with_secure(v) if k.lower() == "set-cookie" else v) for k, v in headers]
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start)


def _with_secure(cookie: str) -> str:
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    return cookie if "secure" in attributes else cookie + "; Secure"


def _security_headers(response):  # type: ignore[no-untyped-def]
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if response.mimetype == "text/html" or request.path.startswith("/admin"):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    return response
