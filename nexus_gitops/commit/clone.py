"""Where a ``--repo URL`` run keeps its clone: ``$TMPDIR/nexus-gitops/<pid>-<random>``.

The folder holds a ``lock`` file that its run keeps locked (``flock``, inherited by the run's
git children) for as long as it lives. A run killed by SIGKILL cannot remove its folder, so every
run first removes the folders whose process is gone and whose lock nobody holds any more: a
clone is left behind at most until the next run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from nexus_gitops.commit.lock import try_lock
from nexus_gitops.errors import GitError

LOCK = "lock"


def scratch_root() -> Path:
    return Path(tempfile.gettempdir()) / "nexus-gitops"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_abandoned(root: Path) -> None:
    """Remove the clones of runs that are gone: the process named in the folder is gone, and
    nothing holds its lock (a git child of a killed run may still be pushing from it)."""
    try:
        entries = list(root.iterdir())
    except FileNotFoundError:
        return
    for entry in entries:
        pid_text, _, _ = entry.name.partition("-")
        if not entry.is_dir() or entry.is_symlink() or not pid_text.isdigit():
            continue
        if _pid_alive(int(pid_text)):
            continue
        lock = entry / LOCK
        if not lock.exists():  # its run died before it locked the folder
            shutil.rmtree(entry, ignore_errors=True)
            continue
        try:
            fd = try_lock(lock)
        except OSError:
            continue
        if fd is None:
            continue  # its run (or one of its git children) still works there
        try:
            shutil.rmtree(entry, ignore_errors=True)
        finally:
            os.close(fd)


def _check_private(root: Path) -> None:
    """The shared temporary directory is writable by everyone: a ``nexus-gitops`` folder (or a
    symlink) made there by another user would receive this run's clone, token-authenticated
    fetches and all, and its folders would be removed by ``remove_abandoned``. Only a real
    folder of our own that nobody else may write is used."""
    info = root.lstat()
    if (
        not stat.S_ISDIR(info.st_mode)
        or info.st_uid != os.geteuid()
        or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    ):
        raise GitError(
            f"refusing {root} for the temporary clone: it is not a folder of this user's "
            "that only this user may write",
            hint="remove it, or set TMPDIR to a private directory",
        )


@contextlib.contextmanager
def scratch_clone_dir() -> Iterator[tuple[Path, int]]:
    """A fresh folder for one run's clone and the descriptor that keeps it claimed."""
    root = scratch_root()
    root.mkdir(mode=0o700, exist_ok=True)
    _check_private(root)
    remove_abandoned(root)
    folder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=root))
    fd = try_lock(folder / LOCK)
    assert fd is not None  # nobody else knows the folder yet
    try:
        yield folder, fd
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        os.close(fd)
