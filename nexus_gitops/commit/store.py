"""Where rendered trees go: a plain directory (``render``) or a Git repository (``sync``).

A Git store builds each commit in one ``git fast-import`` stream (:mod:`.fastimport`), without
the index or the work tree, and publishes it in an order where every prefix of the steps is a
state the next run recognises and finishes or undoes:

1. hold nexus-gitops' own lock on the checkout (:mod:`.lock`), fetch the upstream and build on
   the newest of the local branch and the remote one (fast-forwarding the checkout);
2. check what the last step needs (the branch is where it was, no git lock is in the way, the
   work tree paths to update hold no local edits), and write the intended move down
   (:mod:`.journal`);
3. push, as a fast-forward with a lease on the remote commit the build started from;
4. move the local branch with a compare-and-swap ``update-ref``, then the work tree and index
   for the changed paths only (:mod:`.worktree`).

Killed after 2: nothing moved, the journal is dropped. After 3: the next run's fetch finds the
pushed commit ahead of the local branch and adopts it by fast-forward. After 4's ref move: the
journal tells the next run that the work tree is behind its branch, not edited, and it finishes
the move. A run that fails before 3 leaves refs, index, work tree and config as they were; at most
unreachable objects remain for ``git gc``.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from nexus_gitops.commit import clone as scratch
from nexus_gitops.commit.fastimport import build_commit
from nexus_gitops.commit.git import Git, Identity, redact, split_credentials, token_credentials
from nexus_gitops.commit.journal import Journal, Move
from nexus_gitops.commit.lock import exclusive
from nexus_gitops.commit.remote import PushRejected as PushRejected  # raised by commit()
from nexus_gitops.commit.remote import auth_failure, fetch, push
from nexus_gitops.commit.worktree import Checkout, index_lock_error, prepare
from nexus_gitops.errors import GitError, OwnershipError
from nexus_gitops.plan.digest import blob_id
from nexus_gitops.plan.files import Action, FilePlan

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
ZERO_OID = "0" * 40
_URL = re.compile(r"^([a-z][a-z0-9+.-]*://|[^/\s:]+@[^/\s:]+:)", re.IGNORECASE)


DEFAULT_LOCK_TIMEOUT = 60.0

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


@dataclass(frozen=True)
class LocalCheckout:
    """A checkout committed in place: its work tree, journal and where its branch's lock is."""

    work: Checkout
    journal: Journal
    branch_lock: Path


class GitStore:
    """The managed folder ``subdir`` of one repository, on one branch.

    ``local`` is the checkout committed in place (``--repo PATH``); without it (``--repo URL``)
    the clone has no work tree and only the remote branch matters.
    """

    def __init__(
        self,
        git: Git,
        subdir: str,
        branch: str,
        remote: str | None,
        *,
        local: LocalCheckout | None,
        remote_ref: str | None = None,
        base: str | None = None,
        read_only: bool = False,
    ) -> None:
        self.git = git
        self.read_only = read_only
        """``plan``/``--dry-run``: plan against the newest commit, never move the checkout."""
        self.subdir = subdir
        self.branch = branch
        self.remote = remote
        self.remote_ref = remote_ref or f"refs/heads/{branch}"
        """The branch on the remote that this one pushes to (its upstream's name may differ)."""
        self._local = local
        self.head = self._head() if local else None
        """The local branch's commit: the expected old value of the compare-and-swap."""
        self.remote_tip: str | None = None
        """The remote branch's commit when last fetched: the push's lease."""
        self.base = self.head or base
        """The commit the new one builds on (another branch's, when this one is new)."""
        self._listed: tuple[str, dict[str, str]] | None = None

    @property
    def tracking_ref(self) -> str:
        return f"refs/remotes/{self.remote}/{self.remote_ref.removeprefix('refs/heads/')}"

    @property
    def pushed_to(self) -> str | None:
        if self.remote is None:
            return None
        return f"{self.remote}/{self.remote_ref.removeprefix('refs/heads/')}"

    def _head(self) -> str | None:
        result = self.git.run(
            "rev-parse", "-q", "--verify", f"refs/heads/{self.branch}^{{commit}}", check=False
        )
        return result.stdout.decode().strip() or None

    def _is_ancestor(self, older: str, newer: str) -> bool:
        return (
            self.git.run("merge-base", "--is-ancestor", older, newer, check=False).returncode == 0
        )

    # -- the state the plan is made against ---------------------------------------------------

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
        contents = self.git.blobs([listing[path] for path in wanted])
        return dict(zip(wanted, contents, strict=True))

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

    # -- keeping up with the remote -----------------------------------------------------------

    def recover(self) -> None:
        """Finish what a killed run left half done: a branch moved ahead of its work tree."""
        assert self._local is not None
        move = self._local.journal.read()
        if move is None:
            self._recover_unjournalled()
            return
        if move.new == self.head:
            prepare(self.git, self._local.work, move.old, move.new, "finish the last run").apply()
        # Otherwise the branch never moved: a push that landed is adopted by refresh().
        self._local.journal.clear()

    def _recover_unjournalled(self) -> None:
        """A work tree one commit behind its branch, with no journal (a run of an older
        version killed after it moved the branch): brought up to date when that commit only
        changed files under ``--path``, the index still holds the parent's content for all of
        them (nothing was staged by hand) and the work tree the parent's or the commit's, so
        nothing but this tool's own output is rewritten."""
        assert self._local is not None
        if self.head is None:
            return
        status = self.git.run(
            "status", "--porcelain", "-z", "--untracked-files=all", "--", self.subdir
        ).stdout
        dirty = {entry[3:].decode() for entry in status.split(b"\0") if len(entry) > 3}
        if not dirty:
            return
        parent = (
            self.git.run("rev-parse", "-q", "--verify", f"{self.head}^1", check=False)
            .stdout.decode()
            .strip()
        )
        if not parent:
            return
        try:
            update = prepare(self.git, self._local.work, parent, self.head, "catch up")
        except GitError:
            return  # someone's edits: the dirty check says so
        changed = {change.path for change in update.changes}
        if (
            not update.index_at_old
            or not dirty <= changed
            or not all(path.startswith(f"{self.subdir}/") for path in changed)
        ):
            return
        update.apply()

    def refresh(self) -> None:
        """Fetch the remote branch and build on the newest commit: the remote's, once a local
        checkout is fast-forwarded to it; the local one when it is ahead. Diverged is an error:
        nexus-gitops never force-pushes."""
        if self.remote is None:
            if self._local is not None:
                self.head = self.base = self._head()
            return
        tip = fetch(
            self.git,
            self.remote,
            self.remote_ref,
            self.tracking_ref,
            depth=None if self._local else 1,
        )
        self.remote_tip = tip
        if self._local is None:
            if tip is not None:
                self.base = tip
            return
        self.head = self._head()
        self.base = self.head
        if tip is None or tip == self.head:
            return
        if self.head is not None and self._is_ancestor(tip, self.head):
            return  # local commits not pushed yet: they go out with this run's push
        if self.head is not None and not self._is_ancestor(self.head, tip):
            raise GitError(
                f"local branch {self.branch} and {self.pushed_to} have diverged",
                hint="merge or rebase the checkout onto its upstream; nexus-gitops never "
                "force-pushes",
            )
        if self.read_only:
            self.base = tip
            return
        self._move_checkout(tip, f"fast-forward {self.branch} to {self.pushed_to}")

    def _move_checkout(self, new: str, what: str) -> None:
        """Move the branch and then the work tree, journalled, with nothing written before
        every changed path is known to hold no local edit."""
        assert self._local is not None
        old = self.head
        self._check_local_locks()
        update = prepare(self.git, self._local.work, old, new, what)
        self._local.journal.write(Move(old, new))
        self._compare_and_swap(old, new)
        update.apply()
        self._local.journal.clear()
        self.head = self.base = new

    def _check_local_locks(self) -> None:
        assert self._local is not None
        if self._local.work.index_lock.exists():
            raise index_lock_error(self._local.work.index_lock, self._local.work.root)
        if self._local.branch_lock.exists():
            raise GitError(
                f"{self._local.branch_lock} exists: a git command is updating branch "
                f"{self.branch}, or one was killed and left it",
                hint="if no git process is running in the checkout, remove that file; "
                "nexus-gitops never removes git's own locks",
            )

    def _compare_and_swap(self, old: str | None, new: str) -> None:
        result = self.git.run(
            "update-ref",
            "-m",
            "nexus-gitops: sync",
            f"refs/heads/{self.branch}",
            new,
            old or ZERO_OID,
            check=False,
        )
        if result.returncode != 0:
            raise GitError(
                f"the local branch {self.branch} moved while nexus-gitops worked "
                f"(a commit made in the checkout meanwhile?): "
                f"{self.git.describe_failure(('update-ref',), result)}",
                hint="the next run starts from the branch as it is now",
            )

    def use_remote_tip(self) -> None:
        """Plan against the remote branch's commit, not the local branch (a pull request is
        built on what the remote holds, never on local commits that were not pushed)."""
        self.base = self.remote_tip
        self._listed = None

    # -- publishing ---------------------------------------------------------------------------

    def commit(self, plan: FilePlan, message: str) -> CommitResult:
        """Build, push and publish; :class:`PushRejected` when the remote moved meanwhile
        (nothing changed locally then: call :meth:`refresh` and plan again)."""
        assert not self.read_only
        if self._local is None:
            new = build_commit(self.git, self.base, self.subdir, plan, message)
            assert self.remote is not None
            push(self.git, self.remote, new, self.remote_ref, self.remote_tip)
            self.base = self.remote_tip = new
            return CommitResult(new, self.branch, self.pushed_to)
        old = self.head
        self._check_local_locks()
        if self._head() != old:
            raise PushRejected(f"the local branch {self.branch} moved while nexus-gitops worked")
        new = build_commit(self.git, self.base, self.subdir, plan, message)
        update = prepare(self.git, self._local.work, old, new, f"update {self._local.work.root}")
        self._local.journal.write(Move(old, new))
        if self.remote is not None:
            try:
                push(self.git, self.remote, new, self.remote_ref, self.remote_tip)
            except GitError:
                self._local.journal.clear()
                raise
        self._compare_and_swap(old, new)
        self.remote_tip = new if self.remote is not None else self.remote_tip
        update.apply()
        self._local.journal.clear()
        self.head = self.base = new
        return CommitResult(new, self.branch, self.pushed_to)


def is_url(spec: str) -> bool:
    return bool(_URL.match(spec))


@contextlib.contextmanager
def open_repository(
    spec: str,
    subdir: str,
    identity: Identity,
    branch: str | None,
    token: str | None,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    *,
    read_only: bool = False,
) -> Iterator[GitStore]:
    """A local checkout (committed in place) or a URL (cloned into a temporary directory).

    ``read_only`` (``plan``, ``--dry-run``): the checkout is neither repaired nor
    fast-forwarded; the plan is made against the newest commit all the same."""
    subdir = check_subpath(subdir)
    if is_url(spec):
        url, from_url = split_credentials(spec)
        credentials = token_credentials(token) or from_url
        with scratch.scratch_clone_dir() as (folder, fd):
            git = Git(folder, identity, credentials, keep_fds=(fd,))
            yield _clone(git, url, redact(spec), folder, subdir, branch)
        return
    root = Path(spec)
    if not root.is_dir():
        raise GitError(f"--repo {spec}: no such directory, and not a URL")
    git = Git(root, identity, token_credentials(token))
    top = git.run("rev-parse", "--show-toplevel", "--absolute-git-dir", check=False)
    if top.returncode != 0:
        raise GitError(f"--repo {spec} is not a Git work tree")
    toplevel, git_dir = top.stdout.decode().strip().splitlines()
    git = git.at(Path(toplevel))
    current = git.run("symbolic-ref", "-q", "--short", "HEAD", check=False).stdout.decode().strip()
    if not current:
        raise GitError(f"--repo {spec} has a detached HEAD", hint="check out a branch first")
    if branch and branch != current:
        raise GitError(
            f"--repo {spec} is on branch {current}, but git.branch is {branch}",
            hint="check out the configured branch",
        )
    common = Path(git.out("rev-parse", "--path-format=absolute", "--git-common-dir"))
    with exclusive(Path(git_dir) / "nexus-gitops.lock", lock_timeout, f"--repo {spec}") as fd:
        git = git.keeping(fd)
        local = LocalCheckout(
            Checkout(
                Path(toplevel), Path(git_dir) / "index.lock", Path(git_dir) / "nexus-gitops-tmp"
            ),
            Journal(Path(git_dir)),
            common / "refs" / "heads" / f"{current}.lock",
        )
        remote, remote_ref = _upstream_of(git, current)
        store = GitStore(
            git, subdir, current, remote, local=local, remote_ref=remote_ref, read_only=read_only
        )
        if not read_only:
            store.recover()
        dirty = git.out("status", "--porcelain", "--untracked-files=all", "--", subdir)
        if dirty:
            raise GitError(
                f"--repo {spec} has uncommitted changes under {subdir}",
                hint="commit or discard them; nexus-gitops never overwrites local edits",
            )
        store.refresh()
        yield store


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
    git: Git, url: str, shown: str, folder: Path, subdir: str, branch: str | None
) -> GitStore:
    """A clone without a work tree (nothing is checked out: only the remote branch matters),
    of one branch, one commit deep."""
    target = folder / "repo"
    args = ["clone", "--quiet", "--no-tags", "--no-checkout", "--single-branch", "--depth", "1"]
    result = git.run(
        *args, *(["--branch", branch] if branch else []), "--", url, str(target), check=False
    )
    if result.returncode != 0:
        detail = result.stderr.decode(errors="replace").strip().splitlines()
        message = detail[-1] if detail else "clone failed"
        if branch and "not found in upstream" in message:
            # The branch does not exist yet: build on the default branch and create it.
            default = _clone(git, url, shown, folder / "default", subdir, None)
            return GitStore(default.git, subdir, branch, "origin", local=None, base=default.base)
        problem = auth_failure(git, "\n".join(detail), f"cannot clone {shown}")
        if problem is not None:
            raise problem
        raise GitError(redact(f"cannot clone {shown}: {message}", git.secrets))
    cloned = git.at(target)
    current = cloned.run("symbolic-ref", "-q", "--short", "HEAD", check=False)
    name = branch or current.stdout.decode().strip() or "main"
    store = GitStore(cloned, subdir, name, "origin", local=None)
    store.base = store.remote_tip = (
        cloned.run("rev-parse", "-q", "--verify", "HEAD^{commit}", check=False)
        .stdout.decode()
        .strip()
        or None
    )
    return store
