"""The file-level plan: current tree + desired tree -> create, update, delete.

Ownership is explicit, as in external-dns's TXT registry: every file nexus-gitops writes
starts with a marker line naming its owner id (``Managed by nexus-gitops (owner: prod)``). A run
updates or deletes only files with its own owner id, and a managed folder that holds another
owner's files is refused, so two runs (two clusters, two paths) can never delete each other's
routes. A file nexus-gitops did not write stops the run instead of being overwritten.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass

from nexus_gitops.errors import OwnershipError

MARKER = "Managed by nexus-gitops"
_MARKER = re.compile(rb"Managed by nexus-gitops(?: \(owner: ([A-Za-z0-9._/-]{1,128})\))?")
LEGACY = ""
"""The owner of files written before owner ids existed: adopted by whoever manages the path."""


def marker(owner: str) -> str:
    """The ownership marker written into the first line of every file."""
    return f"{MARKER} (owner: {owner})"


class Action(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True)
class FileChange:
    path: str
    action: Action
    content: bytes | None = None


@dataclass(frozen=True)
class FilePlan:
    changes: tuple[FileChange, ...]

    @property
    def empty(self) -> bool:
        return not self.changes

    def paths(self, action: Action) -> list[str]:
        return [c.path for c in self.changes if c.action is action]


def file_owner(content: bytes) -> str | None:
    """The owner id in a file's marker line; :data:`LEGACY` for an old marker without one;
    None when nexus-gitops did not write the file."""
    match = _MARKER.search(content.split(b"\n", 1)[0])
    if match is None:
        return None
    return match.group(1).decode() if match.group(1) else LEGACY


def plan_files(current: Mapping[str, bytes], desired: Mapping[str, bytes], owner: str) -> FilePlan:
    """Compare trees of relative paths to contents. Pure; sorted for stable output."""
    owners = {path: file_owner(content) for path, content in current.items()}
    foreign = sorted(p for p, o in owners.items() if o not in (None, LEGACY, owner))
    if foreign:
        raise OwnershipError(
            f"{foreign[0]} belongs to owner {owners[foreign[0]]}, not {owner}",
            hint="give every owner a folder of its own (--path), or set --owner-id to "
            "the owner that manages this folder",
        )
    changes: list[FileChange] = []
    for path in sorted(desired):
        content = desired[path]
        if path not in current:
            changes.append(FileChange(path, Action.CREATE, content))
        elif owners[path] is None:
            raise OwnershipError(
                f"refusing to overwrite {path}: it was not written by nexus-gitops",
                hint="move the file away, or choose another --path",
            )
        elif current[path] != content:
            changes.append(FileChange(path, Action.UPDATE, content))
    changes.extend(
        FileChange(path, Action.DELETE)
        for path in sorted(current)
        if path not in desired and owners[path] is not None
    )
    return FilePlan(tuple(changes))
