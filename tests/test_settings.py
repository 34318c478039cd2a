"""Settings: typed parsing of PUBLISHER_* variables, unknown keys refused, defaults from the instance folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from publisher.settings import SettingsError, load_settings


def load(tmp_path: Path, **env: str):  # type: ignore[no-untyped-def]
    environ = {"PUBLISHER_INSTANCE_PATH": str(tmp_path / "inst"), **env}
    return load_settings(environ=environ, config_dir=tmp_path / "config")


def test_defaults_live_in_the_instance_folder(tmp_path: Path) -> None:
    settings = load(tmp_path)
    instance = (tmp_path / "inst").resolve()
    assert settings.database_url == f"sqlite:///{instance / 'publisher.db'}"
    assert settings.media_dir == instance / "media"
    assert settings.redis_url is None
    assert settings.timezone == "Asia/Ho_Chi_Minh"
    assert settings.public_url == "http://127.0.0.1:5000"
    assert settings.facebook_graph_url == "https://graph.facebook.com"
    assert settings.facebook_graph_video_url == "https://graph-video.facebook.com"
    assert settings.youtube_api_url == "https://www.googleapis.com/"
    assert settings.retry_max_attempts == 6 and settings.retry_base_seconds == 30


def test_secret_key_generated_once_and_kept_private(tmp_path: Path) -> None:
    first = load(tmp_path).secret_key
    assert len(first) >= 32
    assert load(tmp_path).secret_key == first
    key_file = tmp_path / "inst" / "secret_key"
    assert key_file.stat().st_mode & 0o077 == 0


def test_every_contract_variable_is_read(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        PUBLISHER_DATABASE_URL="postgresql://loa@db/loa",
        PUBLISHER_REDIS_URL="redis://127.0.0.1:6379/3",
        PUBLISHER_SECRET_KEY="a-very-long-secret-key",
        PUBLISHER_MEDIA_DIR=str(tmp_path / "m"),
        PUBLISHER_PUBLIC_URL="https://tin.ldld.vn/",
        PUBLISHER_FACEBOOK_GRAPH_URL="http://127.0.0.1:9000",
        PUBLISHER_FACEBOOK_GRAPH_VIDEO_URL="http://127.0.0.1:9001",
        PUBLISHER_FACEBOOK_GRAPH_VERSION="22.0",
        PUBLISHER_YOUTUBE_API_URL="http://127.0.0.1:9002",
        PUBLISHER_TIMEZONE="Europe/Paris",
        PUBLISHER_RETRY_MAX_ATTEMPTS="3",
        PUBLISHER_RETRY_BASE_SECONDS="0.5",
    )
    assert settings.database_url == "postgresql+psycopg://loa@db/loa"
    assert settings.redis_url == "redis://127.0.0.1:6379/3"
    assert settings.secret_key == "a-very-long-secret-key"
    assert settings.media_dir == tmp_path / "m"
    assert settings.public_url == "https://tin.ldld.vn"
    assert settings.facebook_graph_version == "v22.0"
    assert settings.youtube_api_url == "http://127.0.0.1:9002/"
    assert settings.timezone == "Europe/Paris"
    assert settings.retry_max_attempts == 3 and settings.retry_base_seconds == 0.5


def test_config_file_supplies_settings_and_environment_wins(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "publisher.env").write_text(
        "# comment\nPUBLISHER_TIMEZONE='Europe/Berlin'\nexport PUBLISHER_RETRY_MAX_ATTEMPTS=4\n", encoding="utf-8")
    settings = load(tmp_path, PUBLISHER_RETRY_MAX_ATTEMPTS="9")
    assert settings.timezone == "Europe/Berlin"
    assert settings.retry_max_attempts == 9


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"PUBLISHER_TIMEZONE": "Mars/Base"}, "PUBLISHER_TIMEZONE"),
        ({"PUBLISHER_FOO": "1"}, "PUBLISHER_FOO"),
        ({"PUBLISHER_DATABASE_URL": "mysql://x"}, "PUBLISHER_DATABASE_URL"),
        ({"PUBLISHER_REDIS_URL": "http://x"}, "PUBLISHER_REDIS_URL"),
        ({"PUBLISHER_RETRY_MAX_ATTEMPTS": "many"}, "PUBLISHER_RETRY_MAX_ATTEMPTS"),
        ({"PUBLISHER_RETRY_MAX_ATTEMPTS": "0"}, "PUBLISHER_RETRY_MAX_ATTEMPTS"),
        ({"PUBLISHER_RETRY_BASE_SECONDS": "-1"}, "PUBLISHER_RETRY_BASE_SECONDS"),
        ({"PUBLISHER_PUBLIC_URL": "tin.ldld.vn"}, "PUBLISHER_PUBLIC_URL"),
        ({"PUBLISHER_FACEBOOK_GRAPH_VERSION": "latest"}, "PUBLISHER_FACEBOOK_GRAPH_VERSION"),
        ({"PUBLISHER_SECRET_KEY": "short"}, "PUBLISHER_SECRET_KEY"),
    ],
)
def test_bad_settings_are_refused_in_one_sentence_naming_the_variable(tmp_path: Path, env: dict, named: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load(tmp_path, **env)
    message = str(caught.value)
    assert named in message
    assert "\n" not in message


def test_malformed_config_file_line_is_refused(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "publisher.env").write_text("PUBLISHER_TIMEZONE\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="publisher.env:1"):
        load(tmp_path)


def test_overrides_take_field_names_and_variable_names(tmp_path: Path) -> None:
    settings = load_settings(environ={}, config_dir=tmp_path, overrides={
        "instance_path": tmp_path / "i", "max_image_mb": 2, "PUBLISHER_TIMEZONE": "UTC"})
    assert settings.max_image_mb == 2 and settings.timezone == "UTC"
    with pytest.raises(SettingsError):
        load_settings(environ={}, config_dir=tmp_path, overrides={"instance_path": tmp_path, "nonsense": 1})
