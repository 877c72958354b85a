"""The file-level plan: current tree + desired tree -> create, update, delete.

Ownership is explicit, as in external-dns: every file nexus-gitops writes starts with the
:data:`MARKER` line, and only files carrying it are ever updated or deleted. A file at a path
nexus-gitops wants that it did not write stops the run instead of being overwritten.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from nexus_gitops.errors import OwnershipError

MARKER = "Managed by nexus-gitops"


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


def is_managed(content: bytes) -> bool:
    """Whether a file was written by nexus-gitops: the marker is on its first line."""
    first_line = content.split(b"\n", 1)[0]
    return MARKER.encode() in first_line


def plan_files(current: Mapping[str, bytes], desired: Mapping[str, bytes]) -> FilePlan:
    """Compare trees of relative paths to contents. Pure; sorted for stable output."""
    changes: list[FileChange] = []
    for path in sorted(desired):
        content = desired[path]
        if path not in current:
            changes.append(FileChange(path, Action.CREATE, content))
        elif not is_managed(current[path]):
            raise OwnershipError(
                f"refusing to overwrite {path}: it was not written by nexus-gitops",
                hint="move the file away, or choose another --path",
            )
        elif current[path] != content:
            changes.append(FileChange(path, Action.UPDATE, content))
    changes.extend(
        FileChange(path, Action.DELETE)
        for path in sorted(current)
        if path not in desired and is_managed(current[path])
    )
    return FilePlan(tuple(changes))
