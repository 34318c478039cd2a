"""Logs: one JSON object per line when asked (PUBLISHER_LOG_FORMAT=json), secrets masked in either format."""

from __future__ import annotations

import io
import json
import logging

import pytest

from publisher.logs import configure_logging
from publisher.settings import SettingsError, load_settings

TOKEN = "EAABwzLixnjYBO7ZBZCmZAabcdefghijklmnop"


@pytest.fixture
def logger() -> logging.Logger:
    """A logger of its own, outside the logging tree (pytest's capture handlers live on the tree's loggers)."""
    log = logging.Logger("loa.test.logs")
    log.propagate = False
    return log


def test_json_lines_with_extra_fields_and_tracebacks_and_no_secrets(logger):  # type: ignore[no-untyped-def]
    out = io.StringIO()
    configure_logging("json", level=logging.INFO, stream=out, logger=logger)
    logger.info("GET /v27.0/me?access_token=%s&fields=id", TOKEN, extra={"delivery_id": 42})
    try:
        raise RuntimeError(f"Authorization: Bearer {TOKEN} was refused; password=mat-khau-bi-mat")
    except RuntimeError:
        logger.exception("Đăng bài thất bại")
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["level"] == "INFO" and first["logger"] == "loa.test.logs" and first["delivery_id"] == 42
    assert first["message"] == "GET /v27.0/me?access_token=[redacted]&fields=id"
    assert second["message"] == "Đăng bài thất bại" and "RuntimeError" in second["exception"]
    assert TOKEN not in out.getvalue() and "mat-khau-bi-mat" not in out.getvalue()


def test_plain_lines_mask_secrets_too(logger):  # type: ignore[no-untyped-def]
    out = io.StringIO()
    configure_logging("text", level=logging.INFO, stream=out, logger=logger)
    logger.warning('token refresh answered {"access_token": "%s", "refresh_token": "r-123456"}', TOKEN)
    text = out.getvalue()
    assert "[redacted]" in text and TOKEN not in text and "r-123456" not in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


def test_the_setting_takes_text_or_json_only(tmp_path):  # type: ignore[no-untyped-def]
    assert load_settings({"PUBLISHER_LOG_FORMAT": "JSON"}, config_dir=tmp_path,
                         overrides={"instance_path": tmp_path}).log_format == "json"
    with pytest.raises(SettingsError, match="PUBLISHER_LOG_FORMAT"):
        load_settings({"PUBLISHER_LOG_FORMAT": "xml"}, config_dir=tmp_path, overrides={"instance_path": tmp_path})
