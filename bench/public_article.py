"""Requests per second of a public article page beside the same bytes served as a static file, by the same
gunicorn server in the same run (target: the article at least 60 % of the static figure).

    python bench/public_article.py [--seconds 5] [--concurrency 8] [--workers 2]

Builds a throw-away instance (SQLite, embedded Redis stand-in), publishes one article through the website
adapter, starts gunicorn on 127.0.0.1, saves the article's HTML under the media folder (served at /media/...),
then drives both URLs from a second process with a bounded pool of threads using http.client.
"""

from __future__ import annotations

import argparse
import http.client
import io
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

USER_AGENT = "Mozilla/5.0 (Linux; Android 14; bench) Chrome/130 Mobile"


def prepare(instance: Path) -> dict[str, str]:
    """Migrate a fresh database and publish one article with a picture; returns the environment for gunicorn."""
    env = {
        "PUBLISHER_INSTANCE_PATH": str(instance),
        "PUBLISHER_DATABASE_URL": f"sqlite:///{instance / 'bench.db'}",
        "PUBLISHER_SECRET_KEY": "bench-secret-key-0123456789abcdef",
        "PUBLISHER_PUBLIC_URL": "http://127.0.0.1:8000",
    }
    os.environ.update(env)
    from flask_migrate import upgrade
    from PIL import Image

    from publisher.accounts.services import create_user, get_root_unit
    from publisher.channels.base import adapter_class
    from publisher.channels.requests import publish_request_for
    from publisher.content.media import MediaLimits, save_upload
    from publisher.content.services import approve_post, create_post, submit_post
    from publisher.db import db
    from web import MIGRATIONS_DIR, create_app

    app = create_app()
    settings = app.extensions["publisher.settings"]
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        root = get_root_unit()
        editor = create_user("bench-editor@loa.test", "editor", root, password="mat-khau-rat-dai-2026", name="Biên tập")
        approver = create_user("bench-approver@loa.test", "approver", root, password="mat-khau-rat-dai-2026")
        buf = io.BytesIO()
        Image.new("RGB", (1600, 1000), "steelblue").save(buf, "JPEG")
        buf.seek(0)
        image = save_upload(buf, "anh.jpg", editor, settings.media_dir, MediaLimits(50 * 2**20, 50 * 2**20),
                            caption="Toàn cảnh hội nghị", alt_text="Hội trường")
        body = "".join(f"<h2>Phần {n}</h2><p>{'Người lao động được bảo vệ quyền lợi hợp pháp, chính đáng. ' * 12}</p>"
                       for n in range(12))
        post = create_post(editor, {"title": "Hội nghị người lao động năm 2026", "summary": "Sapo của bài viết.",
                                    "body_html": body, "media_ids": [image.id], "cover_media_id": image.id,
                                    "category": "Thời sự", "locality": "Đà Nẵng"})
        submit_post(post, editor)
        approve_post(post, approver)
        db.session.commit()
        site = adapter_class("website")(settings, {}, {})
        site.publish(publish_request_for(post, "website", "bench-delivery", settings))
        db.session.commit()
        env["ARTICLE_PATH"] = f"/tin/{post.slug}"
        env["MEDIA_DIR"] = str(settings.media_dir)
    return env


def start_gunicorn(env: dict[str, str], workers: int) -> tuple[subprocess.Popen[bytes], int]:
    log = tempfile.NamedTemporaryFile(prefix="loa-bench-", suffix=".log", delete=False)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", "127.0.0.1:0",
         "--access-logfile", "-", "--access-logformat", "-", "--log-level", "info", "web:create_app()"],
        cwd=ROOT, env={**os.environ, **env, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.time() + 30
    while time.time() < deadline:
        text = Path(log.name).read_text(errors="replace")
        found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", text)
        if found and text.count("Booting worker") >= workers:
            time.sleep(0.5)
            return process, int(found.group(1))
        if process.poll() is not None:
            raise SystemExit("gunicorn stopped:\n" + text)
        time.sleep(0.1)
    process.kill()
    raise SystemExit("gunicorn did not start in 30 s")


def fetch(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _load(port: int, path: str, seconds: float, concurrency: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """Run in a second process: ``concurrency`` threads each requesting ``path`` until the time is up."""
    stop = time.perf_counter() + seconds
    counts = [0] * concurrency
    failures = [0] * concurrency

    def worker(i: int) -> None:
        while time.perf_counter() < stop:
            try:
                status, _ = fetch(port, path)
            except OSError:
                failures[i] += 1
                continue
            if status == 200:
                counts[i] += 1
            else:
                failures[i] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put((sum(counts) / (time.perf_counter() - started), sum(failures)))


def measure(port: int, path: str, seconds: float, concurrency: int) -> tuple[float, int]:
    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    process = multiprocessing.Process(target=_load, args=(port, path, seconds, concurrency, queue))
    process.start()
    result = queue.get(timeout=seconds + 60)
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=max(2, (os.cpu_count() or 2)))
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="loa-bench-") as tmp:
        env = prepare(Path(tmp))
        process, port = start_gunicorn(env, args.workers)
        try:
            status, article = fetch(port, env["ARTICLE_PATH"])
            if status != 200:
                raise SystemExit(f"article page answered {status}")
            static_rel = "bench/article.html"
            (Path(env["MEDIA_DIR"]) / "bench").mkdir(parents=True, exist_ok=True)
            (Path(env["MEDIA_DIR"]) / static_rel).write_bytes(article)
            static_path = "/media/" + static_rel
            status, static = fetch(port, static_path)
            assert status == 200 and static == article, "the static copy must be the same bytes"
            print(f"gunicorn: {args.workers} sync workers on 127.0.0.1:{port}; load: {args.concurrency} threads in a "
                  f"second process, {args.seconds:g} s per round, {args.rounds} rounds each")
            print(f"article page: {env['ARTICLE_PATH']} ({len(article) / 1024:.1f} KB)")
            measure(port, env["ARTICLE_PATH"], 1.0, args.concurrency)  # warm-up: page cache, imports
            measure(port, static_path, 1.0, args.concurrency)
            dynamic_rates, static_rates, failures = [], [], 0
            for _ in range(args.rounds):
                rate, failed = measure(port, static_path, args.seconds, args.concurrency)
                static_rates.append(rate)
                failures += failed
                rate, failed = measure(port, env["ARTICLE_PATH"], args.seconds, args.concurrency)
                dynamic_rates.append(rate)
                failures += failed
            static_rps = sum(static_rates) / len(static_rates)
            article_rps = sum(dynamic_rates) / len(dynamic_rates)
            ratio = article_rps / static_rps if static_rps else 0.0
            print(f"static file:  {static_rps:8.1f} requests/s")
            print(f"article page: {article_rps:8.1f} requests/s")
            print(f"ratio:        {ratio * 100:8.1f} % of the static figure (target: at least 60 %)"
                  f"{'' if ratio >= 0.6 else '  BELOW TARGET'}")
            if failures:
                print(f"failed requests: {failures}")
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    main()
