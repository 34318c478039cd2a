"""Upload a large sparse file (2 GB by default) to the YouTube sandbox through the adapter and print the peak RSS
growth and the throughput. Memory must stay flat: the file is streamed chunk by chunk from disk.

    python bench/youtube_upload_memory.py [--size-mb 2048] [--chunk-mb 8]
"""

from __future__ import annotations

import argparse
import resource
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import load_average, wait_until  # noqa: E402
from publisher.channels.base import MediaFile, PublishRequest  # noqa: E402
from publisher.channels.sandbox.youtube import CLIENT_ID, CLIENT_SECRET  # noqa: E402
from publisher.channels.sandbox.youtube import start as start_sandbox  # noqa: E402
from publisher.channels.youtube import YouTubeAdapter  # noqa: E402
from publisher.settings import load_settings  # noqa: E402


def rss_mb() -> float:
    """Current resident set size (Linux /proc), in MiB."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=2048)
    parser.add_argument("--chunk-mb", type=int, default=8)
    args = parser.parse_args()

    sandbox = start_sandbox()
    where = urlsplit(sandbox.url)
    # The sandbox answers before anything is timed
    wait_until(lambda: socket.create_connection((where.hostname, where.port), timeout=1).close() or True,
               "the YouTube sandbox")
    print(f"before: {load_average()}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.mp4"
        with open(path, "wb") as fh:  # sparse: no disk blocks, reads as zeros
            fh.truncate(args.size_mb * 2**20)
        settings = load_settings(environ={}, overrides={
            "instance_path": Path(tmp), "secret_key": "bench-secret-key-0123456789",
            "youtube_api_url": sandbox.url, "google_token_url": sandbox.token_url,
            "max_video_mb": max(args.size_mb * 2, 4096), "channel_timeout_seconds": 60.0})
        tokens = sandbox.issue_tokens()
        adapter = YouTubeAdapter(settings, {"channel_id": sandbox.channel_id},
                                 {"access_token": tokens["access_token"], "refresh_token": tokens["refresh_token"],
                                  "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
        adapter.chunk_size = args.chunk_mb * 2**20
        size = path.stat().st_size
        request = PublishRequest(
            post_id=1, idempotency_key="bench-1", title="Bench", summary="", body_html="", slug="bench",
            variant={"title": "Bench upload", "privacy": "private"},
            media=(MediaFile(1, "video", path, "video/mp4", size),))

        baseline = rss_mb()
        peak = [baseline]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], rss_mb())
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.perf_counter()
        result = adapter.publish(request)
        elapsed = time.perf_counter() - started
        done.set()
        sampler.join()
        stored = sandbox.video_files[result.remote_id]["bytes"]
    sandbox.stop()
    assert stored == size, (stored, size)
    print(f"uploaded {size / 2**20:.0f} MiB in {args.chunk_mb} MiB chunks to the YouTube sandbox "
          f"(server in the same process)")
    print(f"time {elapsed:.1f} s, throughput {size / 2**20 / elapsed:.0f} MiB/s")
    print(f"RSS baseline {baseline:.1f} MiB, peak {peak[0]:.1f} MiB, growth {peak[0] - baseline:.1f} MiB "
          f"(ru_maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MiB)")
    print(f"after: {load_average()}")


if __name__ == "__main__":
    main()
