"""Application-wide error pages: JSON problem bodies under /api/, HTML pages in the user's language elsewhere."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from publisher.errors import DomainError, TooLarge
from web.uploads import GUARDED_ENDPOINTS, upload_error_json

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        if request.path.startswith("/api/"):
            from web.api import _http_error

            return _http_error(exc)
        status = exc.code or 500
        if status == 413 and request.endpoint in GUARDED_ENDPOINTS:  # the upload script reads a JSON body
            return upload_error_json(TooLarge(_("The file is larger than allowed.")))
        if status in (404, 410) and not request.path.startswith(("/admin", "/api/")):
            from web.public.views import missing_page  # a reader's page: the site's look, no link to /admin/

            return missing_page(status)
        titles = {400: _("The request could not be understood"), 403: _("Not allowed"), 404: _("Page not found"),
                  405: _("Not allowed"), 410: _("This article has been removed"), 413: _("The file is too large"),
                  429: _("Too many attempts")}
        if status == 400 and "CSRF" in (exc.description or ""):
            message = _("The form has expired or was not sent from this site. Reload the page and try again; "
                        "what you typed is still in the page.")
        else:
            message = {403: _("Your role does not allow this."), 404: _("There is nothing at this address."),
                       413: _("The file is larger than allowed.")}.get(status, "")
        return render_template("errors/error.html", status=status, title=titles.get(status, _("Error")),
                               message=message), status

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):  # type: ignore[no-untyped-def]
        if request.path.startswith("/api/"):
            from web.api import _domain_error

            return _domain_error(exc)
        if request.endpoint in GUARDED_ENDPOINTS:
            return upload_error_json(exc)
        return render_template("errors/error.html", status=exc.status, title=_("Error"),
                               message=str(exc.message)), exc.status

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        if request.path.startswith("/api/"):
            from web.api import _unexpected

            return _unexpected(exc)
        log.exception("unexpected error on %s", request.path)
        message = _("Nothing was lost: go back and try again. The error has been logged.")
        try:
            return render_template("errors/error.html", status=500, title=_("Something went wrong"),
                                   message=message), 500
        except Exception:  # noqa: BLE001 - the error page itself failed: answer in plain text rather than not at all
            log.exception("the error page failed too")
            return message, 500, {"Content-Type": "text/plain; charset=utf-8"}
