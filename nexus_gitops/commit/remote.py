"""Talking to the remote: fetch its tip, push a compare-and-swap, and say why either failed.

Every way a push can lose to another writer (non-fast-forward, fetch first, stale info, the
remote's ref lock held by a concurrent push) is one condition, :class:`PushRejected`, which the
sync loop answers by fetching, planning again and retrying. Everything else is a
:class:`GitError` that says what the remote said (a hook's own ``remote:`` lines) or which
credential it refused.
"""

from __future__ import annotations

from nexus_gitops.commit.git import TOKEN_ENV, Git, redact
from nexus_gitops.errors import GitError

_RACES = (
    "non-fast-forward",
    "fetch first",
    "stale info",
    "failed to update ref",
    "failed to lock",
    "cannot lock ref",
    "incorrect old value",
    "already exists",
    "reference already exists",
)
_AUTH = (
    "could not read username",
    "could not read password",
    "authentication failed",
    "access denied",
    "returned error: 401",
    "returned error: 403",
    "invalid username or password",
    "permission denied",
)


class PushRejected(GitError):
    """The remote branch moved on while we worked; nothing changed locally."""


def auth_failure(git: Git, output: str, what: str) -> GitError | None:
    """An authentication failure, saying whether a credential was given and that it was
    refused, or None when ``output`` is not one (git's own text for both cases is the same
    ``could not read Username``, which tells an operator nothing)."""
    lowered = output.lower()
    if not any(marker in lowered for marker in _AUTH):
        return None
    if git.credentials is None:
        return GitError(
            f"{what}: the remote asked for credentials and none were given",
            hint=f"put a token that may push in ${TOKEN_ENV}",
        )
    return GitError(
        f"{what}: the remote refused the credentials given in {git.credentials.given_as}",
        hint="check that the token is valid, not expired, and may push to the repository",
    )


def _remote_lines(output: str, secrets: list[str]) -> str:
    lines = [
        line.removeprefix("remote:").strip()
        for line in output.splitlines()
        if line.startswith("remote:")
    ]
    return redact("; ".join(line for line in lines if line), secrets)


def push(git: Git, remote: str, commit: str, ref: str, expected: str | None) -> None:
    """Push ``commit`` to ``ref`` only if the remote still has ``expected`` there (None: the ref
    must not exist). ``commit`` descends from ``expected``, so this is a fast-forward guarded by
    a lease, never a forced push."""
    lease = f"--force-with-lease={ref}:{expected or ''}"
    result = git.run("push", "--porcelain", lease, remote, f"{commit}:{ref}", check=False)
    if result.returncode == 0:
        return
    stdout = result.stdout.decode(errors="replace")
    stderr = result.stderr.decode(errors="replace")
    rejected = [line for line in stdout.splitlines() if line.startswith("!")]
    where = f"push to {remote} {ref.removeprefix('refs/heads/')}"
    if rejected:
        reason = rejected[0].split("\t")[-1]
        if any(race in reason for race in _RACES):
            raise PushRejected(
                f"{where} was rejected: the branch moved on ({reason})",
                hint="the next run starts from the new commit",
            )
        said = _remote_lines(stderr, git.secrets)
        raise GitError(
            f"{where} was refused by the remote: {said or reason}",
            hint="the remote's hooks or branch protection decide what may be pushed",
        )
    problem = auth_failure(git, stderr, where)
    if problem is not None:
        raise problem
    raise GitError(git.describe_failure(("push", remote), result))


def fetch(git: Git, remote: str, ref: str, into: str, *, depth: int | None = None) -> str | None:
    """Fetch the remote's ``ref`` into the local ``into`` ref; its commit, or None when the
    remote has no such branch (yet)."""
    args = ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head"]
    if depth:
        args += ["--depth", str(depth)]
    result = git.run(*args, remote, f"+{ref}:{into}", check=False)
    if result.returncode != 0:
        stderr = result.stderr.decode(errors="replace")
        if "couldn't find remote ref" in stderr.lower():
            return None
        problem = auth_failure(git, stderr, f"fetch from {remote}")
        if problem is not None:
            raise problem
        raise GitError(git.describe_failure(("fetch", remote), result))
    return git.out("rev-parse", "--verify", f"{into}^{{commit}}")


def delete(git: Git, remote: str, ref: str, expected: str) -> None:
    """Delete ``ref`` on the remote only if it still points at ``expected``: a branch someone
    pushed to since it was read is left alone. Already gone is not an error."""
    lease = f"--force-with-lease={ref}:{expected}"
    result = git.run("push", "--porcelain", lease, remote, f":{ref}", check=False)
    if result.returncode == 0:
        return
    stdout = result.stdout.decode(errors="replace")
    rejected = [line for line in stdout.splitlines() if line.startswith("!")]
    if rejected and any(race in rejected[0] for race in _RACES):
        raise PushRejected(
            f"delete {ref.removeprefix('refs/heads/')} on {remote}: the branch moved on",
            hint="the next run looks at it again",
        )
    problem = auth_failure(git, result.stderr.decode(errors="replace"), f"delete {ref}")
    if problem is not None:
        raise problem
    raise GitError(git.describe_failure(("push", remote), result))
