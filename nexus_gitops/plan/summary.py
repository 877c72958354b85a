"""What a file plan means for routes, in words: the commit message and the CLI summary."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from nexus_gitops.plan.files import Action, FilePlan

REGEX_TAIL = "(/|$)(.*)"
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class ChangeSummary:
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]
    other: tuple[str, ...]

    @property
    def counts(self) -> str:
        return f"+{len(self.added)} -{len(self.removed)} ~{len(self.changed)}"

    @property
    def headline(self) -> str:
        return f"nexus-gitops: sync routes ({self.counts})"


def describe_ingress(content: bytes) -> str | None:
    """``/volumev3 -> openstack/cinder-api:8776`` for a committed Ingress; None if unreadable.

    Only files that are being removed or changed are read: new routes are described from the
    model (:meth:`nexus_gitops.model.Route.describe`), which produces the same words.
    """
    try:
        document: Any = yaml.load(content, Loader=_Loader)  # noqa: S506 - a safe loader
        namespace = document["metadata"]["namespace"]
        fronts: list[str] = []
        backend = ""
        for rule in document["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                service = path["backend"]["service"]
                backend = f"{namespace}/{service['name']}:{service['port']['number']}"
                if "host" in rule:
                    fronts.append(rule["host"])
                else:
                    fronts.append(str(path["path"]).removesuffix(REGEX_TAIL))
    except (yaml.YAMLError, KeyError, TypeError):
        return None
    return f"{', '.join(fronts)} -> {backend}"


def summarize(
    plan: FilePlan, current: Mapping[str, bytes], described: Mapping[str, str]
) -> ChangeSummary:
    """Sort the plan's changes into routes added, removed and changed, and other files.

    ``described`` maps each desired Ingress file to its route's description.
    """
    added, removed, changed, other = [], [], [], []
    for change in plan.changes:
        if not change.path.startswith("ingress/"):
            other.append(f"{change.action.value} {change.path}")
        elif change.action is Action.CREATE:
            added.append(described.get(change.path, change.path))
        elif change.action is Action.DELETE:
            removed.append(describe_ingress(current[change.path]) or change.path)
        else:
            before = describe_ingress(current[change.path])
            after = described.get(change.path, change.path)
            changed.append(after if before in (None, after) else f"{before}  =>  {after}")
    return ChangeSummary(tuple(added), tuple(removed), tuple(changed), tuple(other))


def commit_message(summary: ChangeSummary, source: str) -> str:
    lines = [summary.headline, "", f"Discovered from {source}."]
    for title, entries in (
        ("Added", summary.added),
        ("Removed", summary.removed),
        ("Changed", summary.changed),
        ("Other files", summary.other),
    ):
        if entries:
            lines += ["", f"{title}:", *(f"  {entry}" for entry in entries)]
    return "\n".join(lines) + "\n"
