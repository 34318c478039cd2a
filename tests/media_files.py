"""Real media files for tests: a tiny video made with the ffmpeg that imageio-ffmpeg ships."""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg


def tiny_mp4(path: Path, seconds: float = 2, size: str = "320x240") -> Path:
    """A real MP4 (MPEG-4 part 2, ffmpeg's test pattern) of ``seconds`` at 10 frames a second."""
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-nostdin", "-y", "-f", "lavfi",
                    "-i", f"testsrc=size={size}:rate=10", "-t", str(seconds), "-c:v", "mpeg4", "-pix_fmt", "yuv420p",
                    str(path)], check=True, capture_output=True, timeout=60)
    return path
