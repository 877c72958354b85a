"""Where rendered trees go: a plain directory (``render``) or a Git repository (``sync``).

The Git store never edits the work tree or index until the new commit exists and, when there is
a remote, has been pushed. The commit is built with a temporary index (``read-tree``,
``update-index``, ``write-tree``, ``commit-tree``) and published with a compare-and-swap
``update-ref``. A run that fails at any step before that leaves refs, index, work tree and config
exactly as they were; at most some unreachable objects remain for ``git gc``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from nexus_gitops.commit.git import Git, Identity, redact
from nexus_gitops.errors import GitError, OwnershipError
from nexus_gitops.plan.digest import blob_id
from nexus_gitops.plan.files import Action, FilePlan

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
ZERO_OID = "0" * 40
_URL = re.compile(r"^([a-z][a-z0-9+.-]*://|[^/\s:]+@[^/\s:]+:)", re.IGNORECASE)


class PushRejected(GitError):
    """The remote branch moved on while we worked; nothing changed locally."""


_SUBPATH = re.compile(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*")


def check_subpath(value: str) -> str:
    """``--path``: a folder of its own inside the repository.

    Never the repository itself (``.``: it would own every file), never into ``.git`` in any
    spelling (``.GIT`` is the same folder on case-insensitive file systems), and only plain
    characters, since the path is part of every file name git is given.
    """
    path = PurePosixPath(value)
    parts = path.parts
    if (
        not _SUBPATH.fullmatch(value.rstrip("/"))
        or not parts
        or any(part in (".", "..") for part in value.rstrip("/").split("/"))
        or any(part.lower() == ".git" for part in parts)
    ):
        raise GitError(
            f"--path {value!r} must be a folder inside the repository, not the repository "
            "itself or .git",
            hint="use a folder of its own, e.g. --path nexus or --path clusters/prod/nexus",
        )
    return str(path)


class DirectoryStore:
    """A plain output directory; files are replaced atomically one by one."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def read(self, paths: Iterable[str] | None = None) -> dict[str, bytes]:
        """The files in the folder (all of them: a directory has no cheaper listing)."""
        if self.root.is_symlink():
            raise OwnershipError(f"refusing {self.root}: the output folder is a symlink")
        if not self.root.is_dir():
            return {}
        files: dict[str, bytes] = {}
        for path in sorted(self.root.rglob("*")):
            if path.is_symlink():
                raise OwnershipError(
                    f"refusing {path}: a symlink in the output folder is never replaced",
                    hint="remove it",
                )
            if path.is_file():
                files[path.relative_to(self.root).as_posix()] = path.read_bytes()
        return files

    def listing(self) -> dict[str, str]:
        """Path -> git blob id of each file, as :meth:`GitStore.listing` gives them."""
        return {path: blob_id(content) for path, content in self.read().items()}

    def apply(self, plan: FilePlan) -> None:
        for change in plan.changes:
            target = self.root / change.path
            if change.action is Action.DELETE:
                target.unlink(missing_ok=True)
                with contextlib.suppress(OSError):
                    target.parent.rmdir()  # only succeeds when the folder is now empty
                continue
            assert change.content is not None
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".nexus-")
            with os.fdopen(handle, "wb") as stream:
                stream.write(change.content)
            Path(temporary).replace(target)


@dataclass(frozen=True)
class CommitResult:
    commit: str
    branch: str
    pushed_to: str | None


class GitStore:
    """The managed folder ``subdir`` of one Git work tree, on one branch."""

    def __init__(
        self,
        git: Git,
        subdir: str,
        branch: str,
        remote: str | None,
        update_work_tree: bool,
        base: str | None = None,
        remote_ref: str | None = None,
    ) -> None:
        self.git = git
        self.subdir = subdir
        self.branch = branch
        self.remote = remote
        self.remote_ref = remote_ref or f"refs/heads/{branch}"
        """The branch on the remote that this one pushes to (its upstream's name may differ)."""
        self._update_work_tree = update_work_tree
        self.head = self._head()
        """The branch's commit now: the expected old value of the compare-and-swap."""
        self.base = self.head or base
        """The commit the new one builds on (another branch's, when this one is new)."""
        self._listed: tuple[str, dict[str, str]] | None = None

    def _head(self) -> str | None:
        result = self.git.run(
            "rev-parse", "-q", "--verify", f"refs/heads/{self.branch}^{{commit}}", check=False
        )
        return result.stdout.decode().strip() or None

    def listing(self) -> dict[str, str]:
        """Path (relative to the managed folder) -> blob id, as committed on the branch: cheap,
        no content is read, so a run with nothing to do can tell from ids alone."""
        if self.base is None:
            return {}
        if self._listed is not None and self._listed[0] == self.base:
            return dict(self._listed[1])
        self._check_folder()
        listing = self.git.run("ls-tree", "-r", "-z", "--full-tree", self.base, "--", self.subdir)
        entries: dict[str, str] = {}
        for entry in listing.stdout.split(b"\0"):
            if not entry:
                continue
            meta, raw_path = entry.split(b"\t", 1)
            mode, kind, oid = meta.decode().split()
            if mode == "120000":
                raise GitError(
                    f"refusing {raw_path.decode(errors='replace')}: a symlink in the managed "
                    "folder could point anywhere, and is never replaced",
                    hint="remove the symlink from the repository",
                )
            if kind == "blob" and mode in ("100644", "100755"):
                path = str(PurePosixPath(raw_path.decode()).relative_to(self.subdir))
                entries[path] = oid
        self._listed = (self.base, entries)
        return dict(entries)

    def read(self, paths: Iterable[str] | None = None) -> dict[str, bytes]:
        """The files under the managed folder as committed on the branch (not the work tree);
        only ``paths`` when given (those that exist)."""
        listing = self.listing()
        wanted = [p for p in (listing if paths is None else paths) if p in listing]
        if not wanted:
            return {}
        batch = self.git.run(
            "cat-file", "--batch", stdin="".join(f"{listing[p]}\n" for p in wanted).encode()
        ).stdout
        files: dict[str, bytes] = {}
        position = 0
        for path in wanted:
            header_end = batch.index(b"\n", position)
            size = int(batch[position:header_end].split()[2])
            start = header_end + 1
            files[path] = batch[start : start + size]
            position = start + size + 1
        return files

    def _check_folder(self) -> None:
        """``--path`` and each folder above it must be folders in the tree, not files or
        symlinks: writing below a symlink would write wherever it points."""
        assert self.base is not None
        parts = PurePosixPath(self.subdir).parts
        for depth in range(1, len(parts) + 1):
            prefix = "/".join(parts[:depth])
            listing = self.git.run("ls-tree", "-z", "--full-tree", self.base, "--", prefix)
            for entry in listing.stdout.split(b"\0"):
                if not entry:
                    continue
                meta, raw_path = entry.split(b"\t", 1)
                if raw_path.decode() != prefix:
                    continue
                mode = meta.decode().split()[0]
                if mode != "040000":
                    what = "a symlink" if mode == "120000" else "a file"
                    raise GitError(
                        f"--path {self.subdir}: {prefix} is {what} in the repository, not a folder",
                        hint="choose a folder of its own for --path",
                    )

    def commit(self, plan: FilePlan, message: str) -> CommitResult:
        with tempfile.TemporaryDirectory(prefix="nexus-gitops-") as scratch:
            new = self._build_commit(plan, message, Path(scratch))
        pushed_to = None
        if self.remote is not None:
            self._push(new)
            pushed_to = f"{self.remote}/{self.remote_ref.removeprefix('refs/heads/')}"
        self.git.run(
            "update-ref",
            "-m",
            "nexus-gitops: sync",
            f"refs/heads/{self.branch}",
            new,
            self.head or ZERO_OID,
        )
        if self._update_work_tree:
            self.git.run("read-tree", "-m", "-u", self.base or EMPTY_TREE, new)
        self.head = self.base = new
        return CommitResult(new, self.branch, pushed_to)

    def _build_commit(self, plan: FilePlan, message: str, scratch: Path) -> str:
        index = {"GIT_INDEX_FILE": str(scratch / "index")}
        if self.base:
            self.git.run("read-tree", self.base, extra_env=index)
        else:
            self.git.run("read-tree", "--empty", extra_env=index)
        writes = [c for c in plan.changes if c.action is not Action.DELETE]
        staged = []
        for number, change in enumerate(writes):
            assert change.content is not None
            blob = scratch / f"blob-{number}"
            blob.write_bytes(change.content)
            staged.append(str(blob))
        oids = (
            self.git.out(
                "hash-object", "-w", "--stdin-paths", stdin="\n".join(staged).encode()
            ).split()
            if staged
            else []
        )
        lines = [
            f"100644 {oid}\t{self.subdir}/{change.path}"
            for change, oid in zip(writes, oids, strict=True)
        ]
        lines += [
            f"0 {ZERO_OID}\t{self.subdir}/{c.path}"
            for c in plan.changes
            if c.action is Action.DELETE
        ]
        self.git.run(
            "update-index",
            "--index-info",
            stdin=("\n".join(lines) + "\n").encode(),
            extra_env=index,
        )
        tree = self.git.out("write-tree", extra_env=index)
        parents = ["-p", self.base] if self.base else []
        return self.git.out("commit-tree", tree, *parents, "-F", "-", stdin=message.encode())

    def _push(self, commit: str) -> None:
        assert self.remote is not None
        result = self.git.run(
            "push", "--porcelain", self.remote, f"{commit}:{self.remote_ref}", check=False
        )
        if result.returncode == 0:
            return
        output = (result.stdout + result.stderr).decode(errors="replace")
        if "[rejected]" in output or "non-fast-forward" in output or "fetch first" in output:
            raise PushRejected(
                f"push to {self.remote} {self.remote_ref} was rejected: it has new commits",
                hint="update the checkout (git pull) and run again",
            )
        raise GitError(self.git.describe_failure(("push", self.remote), result))


def is_url(spec: str) -> bool:
    return bool(_URL.match(spec))


@contextlib.contextmanager
def open_repository(
    spec: str, subdir: str, identity: Identity, branch: str | None, token: str | None
) -> Iterator[GitStore]:
    """A local checkout (committed in place) or a URL (cloned into a temporary directory)."""
    subdir = check_subpath(subdir)
    if is_url(spec):
        with tempfile.TemporaryDirectory(prefix="nexus-gitops-clone-") as scratch:
            yield _clone(spec, Path(scratch), subdir, identity, branch, token)
        return
    root = Path(spec)
    if not root.is_dir():
        raise GitError(f"--repo {spec}: no such directory, and not a URL")
    git = Git(root, identity, token)
    top = git.run("rev-parse", "--show-toplevel", check=False)
    if top.returncode != 0:
        raise GitError(f"--repo {spec} is not a Git work tree")
    git = Git(Path(top.stdout.decode().strip()), identity, token)
    current = git.run("symbolic-ref", "-q", "--short", "HEAD", check=False).stdout.decode().strip()
    if not current:
        raise GitError(f"--repo {spec} has a detached HEAD", hint="check out a branch first")
    if branch and branch != current:
        raise GitError(
            f"--repo {spec} is on branch {current}, but git.branch is {branch}",
            hint="check out the configured branch",
        )
    dirty = git.out("status", "--porcelain", "--untracked-files=all", "--", subdir)
    if dirty:
        raise GitError(
            f"--repo {spec} has uncommitted changes under {subdir}",
            hint="commit or discard them; nexus-gitops never overwrites local edits",
        )
    remote, remote_ref = _upstream_of(git, current)
    yield GitStore(git, subdir, current, remote, update_work_tree=True, remote_ref=remote_ref)


def _upstream_of(git: Git, branch: str) -> tuple[str | None, str | None]:
    """Where the branch pushes: its upstream remote and branch (the names may differ, e.g.
    ``main`` tracking ``origin/production``), else ``origin`` under the same branch name when
    there is an ``origin``, else nowhere."""

    def setting(key: str) -> str:
        result = git.run("config", "--get", f"branch.{branch}.{key}", check=False)
        return result.stdout.decode().strip()

    remote = setting("remote")
    if remote and remote != ".":
        return remote, setting("merge") or None
    return ("origin" if "origin" in git.out("remote").split() else None), None


def _clone(
    url: str, scratch: Path, subdir: str, identity: Identity, branch: str | None, token: str | None
) -> GitStore:
    git = Git(scratch, identity, token)
    target = scratch / "repo"
    args = ["clone", "--quiet", "--no-tags", "--single-branch", "--depth", "1"]
    if branch:
        args += ["--branch", branch]
    result = git.run(*args, "--", url, str(target), check=False)
    if result.returncode != 0:
        detail = result.stderr.decode(errors="replace").strip().splitlines()
        message = detail[-1] if detail else "clone failed"
        if branch and "not found in upstream" in message:
            # The branch does not exist yet: build on the default branch and create it.
            shutil.rmtree(target, ignore_errors=True)
            default = _clone(url, scratch, subdir, identity, None, token)
            return GitStore(
                default.git, subdir, branch, "origin", update_work_tree=False, base=default.base
            )
        raise GitError(redact(f"cannot clone {url}: {message}", [token or ""]))
    cloned = Git(target, identity, token)
    current = cloned.run("symbolic-ref", "-q", "--short", "HEAD", check=False)
    name = branch or current.stdout.decode().strip() or "main"
    return GitStore(cloned, subdir, name, "origin", update_work_tree=False)
