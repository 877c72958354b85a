"""Finding the real programs the tests drive (named-checkzone, dnsmasq, nginx)."""

from __future__ import annotations

import os
import shutil
import socket

import pytest

SBIN = ("/usr/sbin", "/sbin", "/usr/local/sbin")


def require(program: str) -> str:
    """The program's path. In CI a missing program fails the test instead of skipping it, so a
    machine without dnsmasq cannot quietly turn the DNS tests into no-ops."""
    found = shutil.which(program) or next(
        (f"{d}/{program}" for d in SBIN if os.access(f"{d}/{program}", os.X_OK)), None
    )
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail(f"{program} is not installed; .ci/run installs it")
    pytest.skip(f"{program} is not installed (apt-get install it, or run .ci/run)")


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
