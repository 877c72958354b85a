"""An exclusive lock of nexus-gitops' own: ``flock`` on a file, never a lock file of git's.

``flock`` is released by the kernel when the last descriptor on it closes, so a run killed by
SIGKILL never leaves it held, and nothing ever has to delete a lock file to recover. The
descriptor is inherited by every git child (:class:`~nexus_gitops.commit.git.Git`'s
``keep_fds``): a killed run's ``git push`` that is still going keeps its checkout locked until it
ends, and the next run only looks at the repository once that push has landed or failed.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from nexus_gitops.errors import GitError

POLL_SECONDS = 0.05


def try_lock(path: Path) -> int | None:
    """The descriptor holding ``path`` locked, or None when another process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            return None
        raise
    return fd


@contextlib.contextmanager
def exclusive(path: Path, timeout: float, what: str) -> Iterator[int]:
    """Hold ``path`` locked for the block, waiting up to ``timeout`` seconds for another run."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            fd = try_lock(path)
        except OSError as exc:
            raise GitError(f"cannot lock {what}: {path}: {exc.strerror}") from None
        if fd is not None:
            break
        if time.monotonic() >= deadline:
            raise GitError(
                f"another nexus-gitops run is still working on {what}: waited {timeout:g}s "
                f"for {path}",
                hint="it finishes on its own; raise git.lock_timeout to wait longer",
            )
        time.sleep(POLL_SECONDS)
    try:
        yield fd
    finally:
        os.close(fd)
