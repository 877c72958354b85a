"""What a run is about to do to a checkout, written down before it does it.

Publishing to a local checkout is push, move the branch, then bring the work tree along. A run
killed between the last two leaves the branch ahead of its work tree, which looks exactly like
someone's uncommitted edits. The journal (``<git dir>/nexus-gitops.journal``, replaced
atomically) records the move ``old -> new`` first, so the next run knows the difference and
finishes the move instead of refusing the checkout forever.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

_ENTRY = re.compile(r"(?P<old>[0-9a-f]{40,64}|-) (?P<new>[0-9a-f]{40,64})\n")


@dataclass(frozen=True)
class Move:
    """The branch moves (or moved) from ``old`` (None: it was unborn) to ``new``."""

    old: str | None
    new: str


class Journal:
    def __init__(self, git_dir: Path) -> None:
        self.path = git_dir / "nexus-gitops.journal"

    def read(self) -> Move | None:
        try:
            text = self.path.read_text()
        except (FileNotFoundError, UnicodeDecodeError):
            return None
        match = _ENTRY.fullmatch(text)
        if not match:
            return None  # a write cut short: the rename never happened, so nothing moved
        old = match["old"]
        return Move(None if old == "-" else old, match["new"])

    def write(self, move: Move) -> None:
        temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}")
        temporary.write_text(f"{move.old or '-'} {move.new}\n")
        temporary.replace(self.path)

    def clear(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
