"""What a change plan means, in words: the commit message and its headline."""

from __future__ import annotations

import hashlib
from collections.abc import Collection

from nexus_gitops.plan.changes import ChangePlan, RecordChange
from nexus_gitops.plan.files import Action, FilePlan


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def dns_words(records: tuple[RecordChange, ...]) -> str | None:
    """``DNS 192.0.2.80 -> 192.0.2.81`` when every record moves alike, else a count."""
    if not records:
        return None
    moves = {(r.before, r.after) for r in records}
    if len(moves) == 1:
        before, after = next(iter(moves))
        if before and after:
            return f"DNS {before} -> {after}"
    return f"DNS {_plural(len(records), 'record')}"


def headline(plan: ChangePlan) -> str:
    """``nexus-gitops: +2 routes, -1, ~1, 1 moved, DNS 192.0.2.80 -> 192.0.2.81``."""
    parts = []
    if plan.added:
        parts.append(f"+{_plural(len(plan.added), 'route')}")
    if plan.removed:
        parts.append(f"-{_plural(len(plan.removed), 'route')}")
    if plan.changed:
        parts.append(f"~{_plural(len(plan.changed), 'route')}")
    if plan.takeovers:
        parts.append(f"{len(plan.takeovers)} moved")
    dns = dns_words(plan.records)
    if dns:
        parts.append(dns)
    return "nexus-gitops: " + (", ".join(parts) if parts else "sync files")


def record_line(change: RecordChange) -> str:
    if change.before is None:
        return f"+ {change.name} {change.after}"
    if change.after is None:
        return f"- {change.name} {change.before}"
    return f"~ {change.name} {change.before} -> {change.after}"


def commit_message(plan: ChangePlan, files: FilePlan, source: str) -> str:
    lines = [headline(plan), "", f"Discovered from {source}."]
    sections = [
        ("Routes added", [r.describe() for r in plan.added]),
        ("Routes removed", [r.describe() for r in plan.removed]),
        ("Routes changed", [f"{a.describe()}  =>  {b.describe()}" for a, b in plan.changed]),
        ("Taken over", [f"{t.claim}: {t.before} -> {t.after}" for t in plan.takeovers]),
        ("DNS records", [record_line(r) for r in plan.records]),
    ]
    for title, entries in sections:
        if entries:
            lines += ["", f"{title}:", *(f"  {entry}" for entry in entries)]
    counts = [
        f"{len(files.paths(action))} {action.value}d"
        for action in (Action.CREATE, Action.UPDATE, Action.DELETE)
        if files.paths(action)
    ]
    if counts:
        lines += ["", f"Files: {', '.join(counts)}."]
    return "\n".join(lines) + "\n"


def change_key(plan: ChangePlan, files: FilePlan, dated: Collection[str]) -> str:
    """A hash of what a change does, for a pull request's "no" to stick to that change.

    It covers the route and record changes and every changed file's path and content, except
    the content of the ``dated`` files (zone files, whose serial carries the date, and the
    state file, which records them): their changes are the record and route changes already
    covered. So the same change proposed tomorrow has the same key.
    """
    lines = [f"+ {r.namespace}/{r.name} {r.describe()}" for r in plan.added]
    lines += [f"- {r.namespace}/{r.name} {r.describe()}" for r in plan.removed]
    lines += [f"~ {a.describe()} => {b.describe()}" for a, b in plan.changed]
    lines += [f"! {t.claim} {t.before} -> {t.after}" for t in plan.takeovers]
    lines += [record_line(r) for r in plan.records]
    for change in sorted(files.changes, key=lambda c: c.path):
        content = b"" if change.path in dated or change.content is None else change.content
        digest = hashlib.sha256(content).hexdigest()
        lines.append(f"{change.action.value} {change.path} {digest}")
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()
