"""The public news website at /."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("public", __name__)

from web.public import views  # noqa: E402,F401
