"""Memory of a Facebook video upload: the real facebook-sdk (through Loa's GraphClient) sends a large video to the
Graph sandbox's video host in chunks. Prints the client process's resident memory before and at its peak.

    python bench/facebook_video_upload_memory.py [--size-mb 2048]

The sandbox runs in a child process so that only the uploading side is measured. The file is sparse (no disk
space used); Graph's chunked protocol reads it one chunk (4 MB) at a time.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import load_average, wait_until  # noqa: E402

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE_SIZE


def serve(conn) -> None:  # type: ignore[no-untyped-def]
    from publisher.channels.sandbox import start_sandboxes

    running = start_sandboxes(["facebook"])
    conn.send(running.settings_overrides())
    conn.recv()  # wait until told to stop
    running.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=2048)
    args = parser.parse_args()

    from publisher.channels.base import MediaFile, PublishRequest
    from publisher.channels.facebook import FacebookAdapter
    from publisher.channels.sandbox.graph import DEMO_PAGE_ID, DEMO_PAGE_TOKEN
    from publisher.settings import load_settings

    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(target=serve, args=(child,), daemon=True)
    server.start()
    overrides = parent.recv()
    graph = urlsplit(overrides["facebook_graph_video_url"] if "facebook_graph_video_url" in overrides
                     else overrides["facebook_graph_url"])
    # The sandbox answers before anything is timed, however slowly its process started
    wait_until(lambda: socket.create_connection((graph.hostname, graph.port), timeout=1).close() or True,
               "the Facebook sandbox")
    print(f"before: {load_average()}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "video.mp4"
        size = args.size_mb * 1024 * 1024
        with path.open("wb") as fh:
            fh.write(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom")
            fh.truncate(size)
        settings = load_settings(environ={}, overrides={"instance_path": tmp, "secret_key": "bench-secret-key-long",
                                                        "channel_timeout_seconds": 60.0, **overrides})
        adapter = FacebookAdapter(settings, {"page_id": DEMO_PAGE_ID}, {"access_token": DEMO_PAGE_TOKEN})
        media = MediaFile(media_id=1, kind="video", path=path, content_type="video/mp4", size_bytes=size)
        request = PublishRequest(post_id=1, idempotency_key="bench", title="Bench", summary="", body_html="",
                                 slug="bench", variant={"message": f"Video {time.time()}"}, media=(media,))
        baseline = rss_bytes()
        peak = baseline
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, rss_bytes())
                time.sleep(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.perf_counter()
        result = adapter.publish(request)
        elapsed = time.perf_counter() - started
        done.set()
        sampler.join()
    parent.send("stop")
    server.join(timeout=10)
    mib = 1024 * 1024
    print(f"facebook video upload: {args.size_mb} MiB in {elapsed:.1f} s ({args.size_mb / elapsed:.0f} MiB/s), "
          f"post {result.remote_id}")
    print(f"client RSS: baseline {baseline / mib:.1f} MiB, peak {peak / mib:.1f} MiB, "
          f"growth {(peak - baseline) / mib:.1f} MiB (file {args.size_mb} MiB)")
    print(f"after: {load_average()}")


if __name__ == "__main__":
    main()
