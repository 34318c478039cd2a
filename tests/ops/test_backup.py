"""``publisher backup`` / ``publisher restore``: a backup restored into an empty instance serves the same posts
and media (on the suite's database: SQLite, or PostgreSQL restored into a second scratch database); a target
that is not empty is refused unless --force."""

from __future__ import annotations

import io
import json
import re
import stat
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from publisher.content.media import MediaLimits, save_upload
from publisher.db import db
from tests.conftest import image_bytes
from tests.ops.conftest import run_cli
from web import create_app


@pytest.fixture
def restore_target(database_url: str, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database: a second PostgreSQL database beside the suite's (made here, dropped after),
    or a new SQLite file."""
    if not database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    url = make_url(database_url).set(drivername="postgresql+psycopg")
    name = f"{url.database}_restore"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def use_instance(monkeypatch: pytest.MonkeyPatch, database_url: str, instance: Path, media: Path | None = None,
                 secret_key: str | None = "operator-secret-key-long-enough") -> None:
    import os

    for key in list(os.environ):
        if key.startswith("PUBLISHER_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("PUBLISHER_DATABASE_URL", database_url)
    monkeypatch.setenv("PUBLISHER_INSTANCE_PATH", str(instance))
    if media is not None:
        monkeypatch.setenv("PUBLISHER_MEDIA_DIR", str(media))
    if secret_key:
        monkeypatch.setenv("PUBLISHER_SECRET_KEY", secret_key)


def test_a_backup_restores_into_an_empty_instance_and_serves_the_same_posts_and_media(
        app, app_config, settings, make_user, make_post, make_token, restore_target, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    editor = make_user("editor")
    photo = save_upload(io.BytesIO(image_bytes()), "hoi-nghi.jpg", editor, settings.media_dir,
                        MediaLimits(40 * 2**20, 40 * 2**20))
    db.session.commit()
    post = make_post(author=editor, title="Hội nghị người lao động năm 2027", media_ids=[photo.id])
    token = make_token(editor)
    original = (settings.media_dir / photo.path).read_bytes()
    media_count = sum(1 for p in settings.media_dir.rglob("*") if p.is_file())

    use_instance(monkeypatch, app_config["database_url"], app_config["instance_path"], settings.media_dir,
                 app_config["secret_key"])
    made = run_cli(["backup", "--output", str(tmp_path / "backups")])
    assert made.exit_code == 0, made.output
    archive = Path(made.output.strip())
    assert re.fullmatch(r"loa-backup-\d{8}-\d{6}\.tar\.gz", archive.name) and archive.parent == tmp_path / "backups"
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("loa-backup.json"))  # type: ignore[arg-type]
        assert f"media/{photo.path}" in tar.getnames()
    assert manifest["database"] == db.engine.dialect.name and manifest["media_files"] == media_count

    target = tmp_path / "target"
    use_instance(monkeypatch, restore_target, target, secret_key=app_config["secret_key"])
    restored = run_cli(["restore", str(archive)])
    assert restored.exit_code == 0, restored.output
    assert f"restored the {db.engine.dialect.name} database (" in restored.output
    assert f"and {media_count} media files from" in restored.output

    copy = create_app({"TESTING": True})
    try:
        client = copy.test_client()
        answer = client.get(f"/api/v1/posts/{post.id}", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.get_data(as_text=True)
        assert answer.json["title"] == "Hội nghị người lao động năm 2027"
        assert answer.json["version"] == post.version
        served = client.get(f"/media/{photo.path}")
        assert served.status_code == 200 and served.data == original
        assert (target / "media" / photo.path).read_bytes() == original

        # A second restore into the now filled instance is refused, and changes nothing ...
        again = run_cli(["restore", str(archive)])
        assert again.exit_code == 1
        assert again.output.count("\n") == 1 and "Traceback" not in again.output
        assert "the target is not empty" in again.output and "--force" in again.output
        # ... unless forced: the instance's own later changes are replaced by the backup's content.
        with copy.app_context():
            from publisher.content.models import Post

            db.session.get(Post, post.id).title = "Sửa sau khi sao lưu"
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
        (target / "media" / "stray.txt").write_text("a file the backup does not have")
        forced = run_cli(["restore", "--force", str(archive)])
        assert forced.exit_code == 0, forced.output
        answer = client.get(f"/api/v1/posts/{post.id}", headers={"Authorization": f"Bearer {token}"})
        assert answer.json["title"] == "Hội nghị người lao động năm 2027"
        assert not (target / "media" / "stray.txt").exists()
        assert client.get(f"/media/{photo.path}").data == original
    finally:
        with copy.app_context():
            db.session.remove()
            db.engine.dispose()


def test_the_generated_secret_key_travels_with_the_backup(migrated, operator_env, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os

    migrated("source")
    os.environ.pop("PUBLISHER_SECRET_KEY")  # the key the instance generates for itself
    made = run_cli(["backup", "-o", str(tmp_path / "b.tar.gz")])
    assert made.exit_code == 0, made.output
    source_key = (tmp_path / "source" / "secret_key").read_text().strip()
    operator_env("copy")
    os.environ.pop("PUBLISHER_SECRET_KEY")
    restored = run_cli(["restore", str(tmp_path / "b.tar.gz")])
    assert restored.exit_code == 0, restored.output
    assert "secret key restored" in restored.output
    assert (tmp_path / "copy" / "secret_key").read_text().strip() == source_key


def test_a_file_that_is_not_a_backup_is_refused_in_one_sentence(operator_env, tmp_path) -> None:  # type: ignore[no-untyped-def]
    operator_env()
    bogus = tmp_path / "bogus.tar.gz"
    bogus.write_bytes(b"not an archive")
    for args, words in ((["restore", str(bogus)], "cannot read"), (["restore", str(tmp_path / "missing.tar.gz")],
                                                                     "does not exist")):
        result = run_cli(args)
        assert result.exit_code != 0
        assert result.output.count("\n") == 1 and "Traceback" not in result.output, result.output
        assert words in result.output
