"""The operator's kit under config/: the example settings file, gunicorn's configuration (used for real), the
systemd units and the nginx site agree with what Loa knows and its limits."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from publisher.settings import PREFIX, SETTINGS, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config"
EXAMPLE = CONFIG / "publisher.env.example"
BIN = Path(sys.executable).parent


def example_entries() -> dict[str, str]:
    """``#PUBLISHER_X=value`` lines of the example file (every entry is commented out), uncommented."""
    entries: dict[str, str] = {}
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"#\s?(PUBLISHER_[A-Z0-9_]+)=(.*)", line.strip())
        if match:
            assert match.group(1) not in entries, f"{match.group(1)} is listed twice"
            entries[match.group(1)] = match.group(2)
    return entries


def test_the_example_settings_file_names_every_setting_loa_knows() -> None:
    named = set(example_entries())
    known = {PREFIX + name for name in SETTINGS}
    assert named - known == set(), "the example names settings Loa does not know"
    assert known - named == set(), "settings missing from config/publisher.env.example"


def test_every_example_value_is_accepted_and_each_entry_says_what_it_means(tmp_path: Path) -> None:
    (tmp_path / "publisher.env").write_text(
        "\n".join(f"{key}={value}" for key, value in example_entries().items()) + "\n", encoding="utf-8")
    settings = load_settings(environ={}, config_dir=tmp_path)
    assert settings.proxy_count == 0 and settings.max_video_mb == 4096
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        if line.startswith("#PUBLISHER_"):
            above = [x for x in lines[:number] if x.strip()][-1]
            assert above.startswith("#"), f"no explanation above {line}"


def test_the_nginx_site_matches_loas_limits_and_gunicorns_timeout() -> None:
    site = (CONFIG / "nginx-loa.conf").read_text(encoding="utf-8")
    default_video_mb = Settings.__dataclass_fields__["max_video_mb"].default
    # the app's MAX_CONTENT_LENGTH is (PUBLISHER_MAX_VIDEO_MB + 16) MB
    assert re.search(rf"client_max_body_size {default_video_mb + 16}m;", site)
    gunicorn_timeout = int(re.search(r"^timeout = (\d+)", (CONFIG / "gunicorn.conf.py").read_text(), re.M)[1])
    for directive in ("proxy_read_timeout", "proxy_send_timeout", "client_body_timeout"):
        assert int(re.search(rf"{directive} (\d+)s;", site)[1]) >= gunicorn_timeout, directive
    assert "X-Forwarded-Proto $scheme" in site and "$proxy_add_x_forwarded_for" in site
    assert "listen 443 ssl" in site and "return 301 https://" in site


def test_the_systemd_units_run_existing_commands() -> None:
    from web.cli import cli

    units = {path.name: path.read_text(encoding="utf-8") for path in (CONFIG / "systemd").iterdir()}
    assert {"publisher-web.service", "publisher-worker@.service", "publisher-scheduler.service"} <= set(units)
    assert "gunicorn -c /opt/loa/config/gunicorn.conf.py" in units["publisher-web.service"]
    for name in ("publisher-worker@.service", "publisher-scheduler.service"):
        command = re.search(r"^ExecStart=\S+/publisher (\w+)", units[name], re.M)[1]
        assert command in cli.commands, name


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_gunicorn_with_the_kits_configuration_serves_the_health_endpoint(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    env.update({"PUBLISHER_INSTANCE_PATH": str(tmp_path / "instance"),
                "PUBLISHER_DATABASE_URL": f"sqlite:///{tmp_path / 'loa.db'}",
                "PUBLISHER_SECRET_KEY": "a-secret-key-for-the-gunicorn-test", "PUBLISHER_PROXY_COUNT": "1",
                "WEB_CONCURRENCY": "1", "WEB_THREADS": "2"})
    subprocess.run([str(BIN / "publisher"), "db", "upgrade"], cwd=tmp_path, env=env, check=True,
                   capture_output=True, timeout=120)
    port = free_port()
    server = subprocess.Popen([str(BIN / "gunicorn"), "-c", str(CONFIG / "gunicorn.conf.py"),
                               "--bind", f"127.0.0.1:{port}"], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=30,
                                      headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
                break
            except (requests.ConnectionError, requests.Timeout):
                assert server.poll() is None, server.stdout.read().decode()  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "gunicorn did not answer within 60 s"
                time.sleep(0.3)
        assert answer.status_code == 200, answer.text
        assert answer.json()["database"] == "ok"
        # the configuration leaves the forwarded scheme to the app's ProxyFix, which trusts one proxy here
        assert answer.headers["Strict-Transport-Security"] == "max-age=31536000"
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.mark.skipif(not Path("/usr/bin/systemd-analyze").exists(), reason="systemd-analyze is not installed")
def test_systemd_accepts_the_units() -> None:
    units = [str(p) for p in sorted((CONFIG / "systemd").glob("*.service"))]
    done = subprocess.run(["systemd-analyze", "verify", *units], capture_output=True, text=True, timeout=60)
    # /opt/loa does not exist on a test machine; anything else would be a mistake in a unit
    problems = [line for line in (done.stdout + done.stderr).splitlines()
                if line.strip() and "/opt/loa/.venv/bin/" not in line]
    assert problems == []
