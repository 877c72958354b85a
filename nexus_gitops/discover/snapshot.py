"""A snapshot source: exactly what ``kubectl get svc -A -o json`` (or ``-o yaml``) prints."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from nexus_gitops.discover import Listing
from nexus_gitops.discover.manifest import service_from_manifest
from nexus_gitops.errors import SourceError
from nexus_gitops.model import KubeService, Skip
from nexus_gitops.validate.names import InvalidValue


def _item_ref(item: Any, index: int) -> str:
    meta = item.get("metadata") if isinstance(item, Mapping) else None
    if isinstance(meta, Mapping):
        return f"{meta.get('namespace')!r}/{meta.get('name')!r}"
    return f"item {index}"


@dataclass(frozen=True)
class SnapshotSource:
    description: str
    services: tuple[KubeService, ...]
    problems: tuple[Skip, ...]

    @classmethod
    def load(cls, path: Path) -> SnapshotSource:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise SourceError(f"cannot read snapshot {path}: {exc.strerror}") from None
        return cls.parse(text, str(path))

    @classmethod
    def parse(cls, text: str, name: str) -> SnapshotSource:
        document = _parse_document(text, name)
        if not isinstance(document, Mapping) or document.get("kind") not in (
            "List",
            "ServiceList",
        ):
            raise SourceError(
                f"snapshot {name} is not a Kubernetes List",
                hint="create it with: kubectl get svc -A -o yaml > snapshot.yaml",
            )
        items = document.get("items") or []
        if not isinstance(items, list):
            raise SourceError(f"snapshot {name}: items must be a list")
        services: list[KubeService] = []
        problems: list[Skip] = []
        for index, item in enumerate(items):
            if isinstance(item, Mapping) and item.get("kind", "Service") != "Service":
                continue
            try:
                services.append(service_from_manifest(item))
            except InvalidValue as exc:
                problems.append(Skip(_item_ref(item, index), f"unreadable Service: {exc}", True))
        return cls(f"snapshot {name}", tuple(services), tuple(problems))

    def list_services(self, namespaces: Sequence[str]) -> Listing:
        wanted = set(namespaces)
        present = {s.namespace for s in self.services}
        return Listing(
            tuple(s for s in self.services if s.namespace in wanted),
            self.problems,
            tuple(ns for ns in namespaces if ns not in present),
        )

    def get_service(self, namespace: str, name: str) -> KubeService | None:
        for service in self.services:
            if (service.namespace, service.name) == (namespace, name):
                return service
        return None


def _parse_document(text: str, name: str) -> Any:
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SourceError(f"snapshot {name} is not valid JSON: {exc}") from None
    try:
        return YAML(typ="safe", pure=True).load(text)
    except YAMLError as exc:
        detail = " ".join(str(exc).split())[:200]
        raise SourceError(f"snapshot {name} is not valid YAML: {detail}") from None
