"""Build a commit in one ``git fast-import`` stream.

One process, one pack: the new blobs go inline, the tree is the base's tree with ``M``/``D``
lines for the changed paths only, and nothing touches the index, the work tree or a scratch
file. The commit is named by a mark and read back with ``get-mark``; the ref fast-import would
write is reset to nothing at the end, so no ref moves and nothing is visible until the caller's
compare-and-swap. A stream cut short (the run is killed) ends without ``done``, which makes
fast-import fail instead of committing half a tree.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

from nexus_gitops.commit.git import Git, Identity
from nexus_gitops.errors import GitError
from nexus_gitops.plan.files import Action, FilePlan

ZERO_OID = "0" * 40
_PLAIN_PATH = re.compile(r"[A-Za-z0-9._@+-]+(/[A-Za-z0-9._@+-]+)*")
_PERSON = re.compile(r"[^<>\n]+")


def _person(identity: Identity) -> str:
    if not (_PERSON.fullmatch(identity.name) and _PERSON.fullmatch(identity.email)):
        raise GitError(
            "the commit author's name and email must not contain <, > or a line break",
            hint="check git.author_name/author_email or $GIT_AUTHOR_NAME/$GIT_AUTHOR_EMAIL",
        )
    return f"{identity.name.strip()} <{identity.email.strip()}> now"


def _stream(
    base: str | None, subdir: str, plan: FilePlan, message: str, person: str, ref: str
) -> Iterator[bytes]:
    text = message if message.endswith("\n") else message + "\n"
    encoded = text.encode()
    header = [
        f"commit {ref}",
        "mark :1",
        f"author {person}",
        f"committer {person}",
        f"data {len(encoded)}",
    ]
    yield ("\n".join(header) + "\n").encode() + encoded
    if base:
        yield f"from {base}\n".encode()
    for change in plan.changes:
        path = f"{subdir}/{change.path}"
        if not _PLAIN_PATH.fullmatch(path):
            raise GitError(f"refusing to commit {path!r}: not a plain path")
        if change.action is Action.DELETE:
            yield f"D {path}\n".encode()
            continue
        assert change.content is not None
        yield f"M 100644 inline {path}\ndata {len(change.content)}\n".encode()
        yield change.content
        yield b"\n"
    yield f"\nget-mark :1\nreset {ref}\nfrom {ZERO_OID}\n\ndone\n".encode()


def build_commit(git: Git, base: str | None, subdir: str, plan: FilePlan, message: str) -> str:
    """The new commit's id: ``base`` plus the plan's changes under ``subdir``."""
    ref = f"refs/nexus-gitops/build-{os.getpid()}"
    chunks = _stream(base, subdir, plan, message, _person(git.identity), ref)
    output = git.stream("fast-import", "--quiet", "--done", "--date-format=now", chunks=chunks)
    commit = output.decode().strip().splitlines()[-1:]
    if not commit or not re.fullmatch(r"[0-9a-f]{40,64}", commit[0]):
        raise GitError("git fast-import did not name the commit it wrote")
    return commit[0]
