"""What a file plan means for routes, in words: the commit message and the CLI summary."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from nexus_gitops.plan.files import Action, FilePlan

REGEX_TAIL = "(/|$)(.*)"


@dataclass(frozen=True)
class ChangeSummary:
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]
    other: tuple[str, ...]

    @property
    def headline(self) -> str:
        counts = f"+{len(self.added)} -{len(self.removed)} ~{len(self.changed)}"
        return f"nexus-gitops: sync routes ({counts})"


def describe_ingress(content: bytes) -> str | None:
    """``/volumev3 -> openstack/cinder-api:8776`` for one Ingress file; None if unreadable."""
    try:
        document: Any = YAML(typ="safe", pure=True).load(content)
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
    except (YAMLError, KeyError, TypeError):
        return None
    return f"{', '.join(fronts)} -> {backend}"


def summarize(plan: FilePlan, current: Mapping[str, bytes]) -> ChangeSummary:
    added, removed, changed, other = [], [], [], []
    for change in plan.changes:
        is_route = change.path.startswith("ingress/")
        if not is_route:
            other.append(f"{change.action.value} {change.path}")
            continue
        if change.action is Action.CREATE:
            assert change.content is not None
            added.append(describe_ingress(change.content) or change.path)
        elif change.action is Action.DELETE:
            removed.append(describe_ingress(current[change.path]) or change.path)
        else:
            assert change.content is not None
            before = describe_ingress(current[change.path])
            after = describe_ingress(change.content) or change.path
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
