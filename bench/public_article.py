"""Requests per second of a public article page beside the same bytes served as a static file, by the same
gunicorn server in the same run, with compression on (target: the article at least 60 % of the static figure;
goal: 90 %).

    python bench/public_article.py [--seconds 5] [--concurrency 8] [--workers 2] [--rounds 3] [--encoding br]

Builds a throw-away instance (SQLite, embedded Redis stand-in), publishes one article through the website
adapter, starts gunicorn on 127.0.0.1, waits until it answers, saves the article's HTML under the media folder
(served at /media/...), then drives both URLs from a second process with a bounded pool of threads using
http.client, each request asking for ``--encoding`` (``identity`` turns compression off). Static and article
rounds alternate, so a change in the machine's load touches both; the load average is printed beside each round
(the machine is shared: compare figures taken at a similar load).
"""

from __future__ import annotations

import argparse
import gzip
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

import brotli

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Spread, load_average, load_one, wait_until  # noqa: E402

USER_AGENT = "Mozilla/5.0 (Linux; Android 14; bench) Chrome/130 Mobile"
START_TIMEOUT = 300  # seconds for gunicorn to boot and answer on a busy machine (an article page once took over 10 s)


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
    from publisher.content.media import MediaLimits, save_upload
    from publisher.content.services import approve_post, create_post, submit_post
    from publisher.db import db
    from publisher.scheduler.requests import publish_request_for
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


def wait_until_answering(process: subprocess.Popen[bytes], port: int, path: str, log: str, timeout: float = 60) -> None:
    """Until ``path`` answers 200 (every worker booted and the app imported), however slow the start."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit("gunicorn stopped:\n" + Path(log).read_text(errors="replace"))
        try:
            if fetch(port, path)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit(f"gunicorn did not answer {path} in {timeout:g} s")


def start_gunicorn(env: dict[str, str], workers: int) -> tuple[subprocess.Popen[bytes], int]:
    log = tempfile.NamedTemporaryFile(prefix="loa-bench-", suffix=".log", delete=False)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", "127.0.0.1:0",
         "--access-logfile", "-", "--access-logformat", "-", "--log-level", "info", "web:create_app()"],
        cwd=ROOT, env={**os.environ, **env, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.time() + START_TIMEOUT
    while time.time() < deadline:
        text = Path(log.name).read_text(errors="replace")
        found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", text)
        if found:
            port = int(found.group(1))
            # Every worker must answer: one request per worker would not prove it, so ask a few times each.
            for _ in range(workers * 3):
                wait_until_answering(process, port, "/robots.txt", log.name, timeout=max(1.0, deadline - time.time()))
            return process, port
        if process.poll() is not None:
            raise SystemExit("gunicorn stopped:\n" + text)
        time.sleep(0.1)
    process.kill()
    raise SystemExit(f"gunicorn did not start listening in {START_TIMEOUT} s")


def fetch(port: int, path: str, encoding: str = "identity") -> tuple[int, bytes]:
    """One GET; returns the status and the body as sent (compressed when ``encoding`` was accepted)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"User-Agent": USER_AGENT, "Accept-Encoding": encoding})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def fetch_decoded(port: int, path: str, encoding: str) -> tuple[int, bytes, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"User-Agent": USER_AGENT, "Accept-Encoding": encoding})
        response = conn.getresponse()
        body, sent = response.read(), response.getheader("Content-Encoding", "identity")
    finally:
        conn.close()
    if sent == "br":
        body = brotli.decompress(body)
    elif sent == "gzip":
        body = gzip.decompress(body)
    return response.status, body, sent


def _load(port: int, path: str, seconds: float, concurrency: int, encoding: str,
          out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """Run in a second process: ``concurrency`` threads each requesting ``path`` until the time is up."""
    stop = time.perf_counter() + seconds
    counts = [0] * concurrency
    failures = [0] * concurrency

    def worker(i: int) -> None:
        while time.perf_counter() < stop:
            try:
                status, _ = fetch(port, path, encoding)
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


def measure(port: int, path: str, seconds: float, concurrency: int, encoding: str) -> tuple[float, int]:
    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    process = multiprocessing.Process(target=_load, args=(port, path, seconds, concurrency, encoding, queue))
    process.start()
    result = queue.get(timeout=seconds + 60)
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=max(2, (os.cpu_count() or 2)))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--encoding", default="br", help="Accept-Encoding of every request (br, gzip, identity)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="loa-bench-") as tmp:
        env = prepare(Path(tmp))
        process, port = start_gunicorn(env, args.workers)
        try:
            # The article's first rendering (a cold worker, on a busy machine) may take longer than one request's
            # time-out: ask until it answers, then read it
            wait_until(lambda: fetch(port, env["ARTICLE_PATH"])[0] == 200, "the article page", timeout=START_TIMEOUT)
            status, article = fetch(port, env["ARTICLE_PATH"])
            if status != 200:
                raise SystemExit(f"article page answered {status}")
            static_rel = "bench/article.html"
            (Path(env["MEDIA_DIR"]) / "bench").mkdir(parents=True, exist_ok=True)
            (Path(env["MEDIA_DIR"]) / static_rel).write_bytes(article)
            static_path = "/media/" + static_rel
            status, static = fetch(port, static_path)
            assert status == 200 and static == article, "the static copy must be the same bytes"
            _, page_body, page_sent = fetch_decoded(port, env["ARTICLE_PATH"], args.encoding)
            _, static_body, static_sent = fetch_decoded(port, static_path, args.encoding)
            assert page_body == static_body == article, "both answers must decode to the same bytes"
            sizes = {name: len(fetch(port, path, args.encoding)[1]) for name, path in
                     (("article", env["ARTICLE_PATH"]), ("static", static_path))}
            print(f"gunicorn: {args.workers} sync workers on 127.0.0.1:{port}; load: {args.concurrency} threads in a "
                  f"second process, {args.seconds:g} s per round, {args.rounds} rounds each, interleaved")
            print(f"article page: {env['ARTICLE_PATH']} ({len(article) / 1024:.1f} KB; Accept-Encoding: "
                  f"{args.encoding} -> article sent {page_sent}, {sizes['article'] / 1024:.1f} KB; static sent "
                  f"{static_sent}, {sizes['static'] / 1024:.1f} KB)")
            print(f"before: {load_average()}")
            measure(port, env["ARTICLE_PATH"], 1.0, args.concurrency, args.encoding)  # warm-up: caches, imports
            measure(port, static_path, 1.0, args.concurrency, args.encoding)
            dynamic_rates, static_rates, loads, failures = [], [], [], 0
            for n in range(args.rounds):
                # Alternate which goes first, so that neither always follows the other's tail.
                order = [("static", static_path), ("article", env["ARTICLE_PATH"])]
                for name, path in order if n % 2 == 0 else reversed(order):
                    rate, failed = measure(port, path, args.seconds, args.concurrency, args.encoding)
                    (static_rates if name == "static" else dynamic_rates).append(rate)
                    failures += failed
                loads.append(load_one())
                print(f"round {n + 1}: static {static_rates[-1]:8.1f}/s, article {dynamic_rates[-1]:8.1f}/s "
                      f"({dynamic_rates[-1] / static_rates[-1] * 100 if static_rates[-1] else 0:5.1f} %); "
                      f"{load_average()}")
            # Each round's ratio is of two measurements taken back to back; the median and the min–max over rounds
            ratios = Spread(tuple(d / s * 100 if s else 0.0 for d, s in zip(dynamic_rates, static_rates, strict=True)))
            ratio = ratios.median / 100
            print(f"static file:  {Spread(tuple(static_rates)).format(unit=' requests/s')}")
            print(f"article page: {Spread(tuple(dynamic_rates)).format(unit=' requests/s')}")
            verdict = "goal met" if ratio >= 0.9 else "target met" if ratio >= 0.6 else "BELOW TARGET"
            print(f"ratio:        {ratios.format('{:.1f}', ' %')} of the static figure, median (min–max) over the "
                  f"rounds (target: at least 60 %, goal: 90 %): {verdict}")
            print(f"1-minute load during the rounds: {Spread(tuple(loads)).format('{:.1f}')}; after: {load_average()}")
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
