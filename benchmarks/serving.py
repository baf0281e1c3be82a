"""Starting a studio for a benchmark: a free loopback port, and waiting for the first HTTP 200."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_served(
    proc: subprocess.Popen, url: str, *, timeout_s: float | None = None, poll_s: float = 0.05
) -> bool:
    """True at the first HTTP 200 from ``url``; False if ``proc`` exits first or ``timeout_s`` passes."""
    started = time.perf_counter()
    while timeout_s is None or time.perf_counter() - started < timeout_s:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(poll_s)
    return False
