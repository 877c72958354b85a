"""Bring a checkout's work tree and index from one commit to another, path by path.

Only the paths that differ between the two commits are looked at and written (a sync that
changes one file touches one file), and the move can be repeated: a path already at the new
content is left alone, so a run killed half-way through is finished by the next one. A path
whose content is neither the old nor the new one is someone's edit: the move stops before
writing anything.

The index is updated by ``git update-index`` for those paths only. It needs git's own
``index.lock``; that file is never removed here (a git command may hold it), a clear error
says so instead.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from nexus_gitops.commit.git import Git
from nexus_gitops.errors import GitError
from nexus_gitops.plan.digest import blob_id

_WRITABLE = ("100644", "100755", "120000")


@dataclass(frozen=True)
class PathChange:
    path: str
    old: str | None
    new: str | None
    new_mode: str


def index_lock_error(lock: Path, root: Path) -> GitError:
    return GitError(
        f"{lock} exists: a git command is working in {root}, or one was killed and left it",
        hint="if no git process is running in the checkout, remove that file; "
        "nexus-gitops never removes git's own locks",
    )


def changes_between(git: Git, old: str | None, new: str) -> list[PathChange]:
    if old is None:
        listing = git.run("ls-tree", "-r", "-z", "--full-tree", new).stdout
        found = []
        for entry in filter(None, listing.split(b"\0")):
            meta, path = entry.split(b"\t", 1)
            mode, _, oid = meta.decode().split()
            found.append(PathChange(path.decode(), None, oid, mode))
        return found
    raw = git.run("diff-tree", "-r", "-z", "--no-renames", "--no-commit-id", old, new).stdout
    fields = raw.split(b"\0")
    found = []
    for meta, path in zip(fields[0::2], fields[1::2], strict=False):
        if not meta.startswith(b":"):
            continue
        _, new_mode, old_oid, new_oid, status = meta.decode()[1:].split()
        found.append(
            PathChange(
                path.decode(),
                None if status == "A" else old_oid,
                None if status == "D" else new_oid,
                new_mode,
            )
        )
    return found


def _work_tree_oid(root: Path, path: str) -> str | None:
    target = root / path
    try:
        info = target.lstat()
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return "not-a-directory"
    if stat.S_ISLNK(info.st_mode):
        return blob_id(os.fsencode(target.readlink()))
    if stat.S_ISREG(info.st_mode):
        return blob_id(target.read_bytes())
    return "not-a-file"


def _parents_are_folders(root: Path, path: str, known: dict[str, bool]) -> bool:
    """No folder on the way to ``path`` is a symlink or a file (``known`` caches folders)."""
    parent, _, _ = path.rpartition("/")
    if not parent:
        return True
    if parent in known:
        return known[parent]
    ok = _parents_are_folders(root, parent, known)
    if ok:
        try:
            ok = stat.S_ISDIR((root / parent).lstat().st_mode)
        except FileNotFoundError:
            ok = True
    known[parent] = ok
    return ok


def _index(git: Git) -> dict[str, tuple[str, str]]:
    """Path -> (stage, oid) for every index entry."""
    entries: dict[str, tuple[str, str]] = {}
    for entry in filter(None, git.run("ls-files", "-s", "-z").stdout.split(b"\0")):
        meta, path = entry.split(b"\t", 1)
        _, oid, stage = meta.decode().split()
        entries[path.decode()] = (stage, oid)
    return entries


@dataclass(frozen=True)
class Checkout:
    """A work tree, its index lock, and a folder in its git dir for files being written (a
    file killed half-written there is not an untracked file in the work tree)."""

    root: Path
    index_lock: Path
    scratch: Path


@dataclass(frozen=True)
class Update:
    """A checked move of the work tree: :meth:`apply` writes it."""

    git: Git
    checkout: Checkout
    changes: tuple[PathChange, ...]
    pending: tuple[PathChange, ...]
    index_at_old: bool = True
    """Every changed path's index entry still holds the old content (nothing staged)."""

    def apply(self) -> None:
        """Write the paths not at their new content yet, then the index entries of all."""
        if not self.changes:
            return
        _write(self.git, self.checkout, list(self.pending))
        paths = b"".join(c.path.encode() + b"\0" for c in self.changes)
        result = self.git.run(
            "update-index", "-z", "--add", "--remove", "--stdin", stdin=paths, check=False
        )
        if result.returncode != 0:
            if self.checkout.index_lock.exists():
                raise index_lock_error(self.checkout.index_lock, self.checkout.root)
            raise GitError(self.git.describe_failure(("update-index",), result))


def prepare(git: Git, checkout: Checkout, old: str | None, new: str, what: str) -> Update:
    """Check that the work tree and index can be moved from ``old`` to ``new`` (every path
    that differs holds one of the two contents), without writing anything."""
    root, index_lock = checkout.root, checkout.index_lock
    changes = changes_between(git, old, new)
    if not changes:
        return Update(git, checkout, (), ())
    if index_lock.exists():
        raise index_lock_error(index_lock, root)
    index = _index(git)
    folders: dict[str, bool] = {}
    pending: list[PathChange] = []
    index_at_old = True
    for change in changes:
        allowed = {change.old, change.new}
        staged = index.get(change.path)
        if staged is not None and staged[0] != "0":
            raise GitError(f"cannot {what}: {change.path} has a merge conflict in the index")
        if (staged[1] if staged else None) not in allowed or not _parents_are_folders(
            root, change.path, folders
        ):
            raise GitError(
                f"cannot {what}: {change.path} has local changes",
                hint="commit or discard them; nexus-gitops never overwrites local edits",
            )
        index_at_old = index_at_old and (staged[1] if staged else None) == change.old
        present = _work_tree_oid(root, change.path)
        if present not in allowed:
            raise GitError(
                f"cannot {what}: {change.path} has local changes",
                hint="commit or discard them; nexus-gitops never overwrites local edits",
            )
        if change.new is not None and change.new_mode not in _WRITABLE:
            raise GitError(
                f"cannot {what}: {change.path} is a submodule", hint="update it with git pull"
            )
        if present != change.new:
            pending.append(change)
    return Update(git, checkout, tuple(changes), tuple(pending), index_at_old)


def _write(git: Git, checkout: Checkout, changes: list[PathChange]) -> None:
    root = checkout.root
    if changes:
        shutil.rmtree(checkout.scratch, ignore_errors=True)  # what a killed run left
        checkout.scratch.mkdir(exist_ok=True)
    wanted = [c for c in changes if c.new is not None]
    oids = [c.new for c in wanted if c.new is not None]
    contents = dict(zip(oids, git.blobs(oids), strict=True))
    made: set[Path] = set()
    for change in changes:
        target = root / change.path
        if change.new is None:
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            parent = target.parent
            while parent != root:
                try:
                    parent.rmdir()  # only succeeds when the folder is now empty
                except OSError:
                    break
                parent = parent.parent
            continue
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        content = contents[change.new]
        try:
            _place(checkout.scratch / "file", target, content, change.new_mode)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            # The git dir is on another file system: write next to the target instead.
            _place(target.with_name(f".nexus-{os.getpid()}"), target, content, change.new_mode)


def _place(temporary: Path, target: Path, content: bytes, mode: str) -> None:
    """Write ``temporary`` and rename it over ``target``: a kill leaves the old or the new
    content at ``target``, never a half-written file that would look like a local edit."""
    if mode == "120000":
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        temporary.symlink_to(os.fsdecode(content))
    else:
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
        fd = os.open(temporary, flags, 0o755 if mode == "100755" else 0o644)
        try:
            _write_all(fd, content)
        finally:
            os.close(fd)
    temporary.replace(target)


def _write_all(fd: int, content: bytes) -> None:
    view = memoryview(content)
    while view:
        view = view[os.write(fd, view) :]
