"""A snapshot source: exactly what ``kubectl get svc -A -o json`` (or ``-o yaml``) prints.

A snapshot is a file someone handed the tool, so it is read defensively: any way it can be
broken (not UTF-8, nested too deep, duplicate keys, numbers too long to convert) ends in one
:class:`~nexus_gitops.errors.SourceError` that names the file, and a broken item is skipped
with its reason, naming the Service.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from nexus_gitops.discover import Listing
from nexus_gitops.discover.manifest import (
    MAX_INT_DIGITS,
    DuplicateKey,
    TooLong,
    loads_json,
    service_from_manifest,
)
from nexus_gitops.errors import SourceError
from nexus_gitops.model import KubeService, Skip
from nexus_gitops.validate.names import InvalidValue, dns_label, shown

HINT = "create it with: kubectl get svc -A -o yaml > snapshot.yaml"


_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[valid-type, misc]
    """libyaml's safe loader, refusing duplicate keys.

    The parser is C; what is left in Python is building the objects, so a snapshot reads about
    ten times as fast as with the pure-Python reader, though still slower than ``json``.

    It reads YAML 1.1, as kubectl's own YAML library does: kubectl quotes every string that
    1.1 would read as something else (``"true"``, ``"2026-10-02T08:14:01Z"``), and libyaml
    refuses nesting deeper than 1000 levels instead of exhausting the stack.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        merges = any(key.tag == "tag:yaml.org,2002:merge" for key, _ in node.value)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        if not merges and len(mapping) != len(node.value):
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node)
                if key in seen:
                    raise DuplicateKey(key)
                seen.add(key)
        return mapping

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int | TooLong:
        digits = str(node.value).replace("_", "").lstrip("+-")
        if len(digits) > MAX_INT_DIGITS:
            return TooLong(len(digits))
        value: int = super().construct_yaml_int(node)
        return value


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)


def _item_ref(item: Any, index: int) -> str:
    """``namespace/name`` when both read as names, else the item's position."""
    meta = item.get("metadata") if isinstance(item, Mapping) else None
    if isinstance(meta, Mapping):
        namespace, name = meta.get("namespace"), meta.get("name")
        try:
            return f"{dns_label(namespace)}/{dns_label(name)}"
        except InvalidValue:
            return f"{shown(namespace, 40)}/{shown(name, 40)}"
    return f"item {index}"


@dataclass(frozen=True)
class SnapshotSource:
    description: str
    services: tuple[KubeService, ...]
    problems: tuple[Skip, ...]
    namespaces: frozenset[str] = frozenset()
    """Every namespace that any item names, readable or not."""

    @classmethod
    def load(cls, path: Path) -> SnapshotSource:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SourceError(f"cannot read snapshot {path}: {exc.strerror}") from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SourceError(
                f"snapshot {path} is not UTF-8 text (byte {exc.start})", hint=HINT
            ) from None
        return cls.parse(text, str(path))

    @classmethod
    def parse(cls, text: str, name: str) -> SnapshotSource:
        document = _parse_document(text, name)
        if not isinstance(document, Mapping) or document.get("kind") not in (
            "List",
            "ServiceList",
        ):
            raise SourceError(f"snapshot {name} is not a Kubernetes List", hint=HINT)
        items = document.get("items")
        if items is None:
            items = []
        if not isinstance(items, list):
            raise SourceError(f"snapshot {name}: items must be a list")
        services: list[KubeService] = []
        problems: list[Skip] = []
        namespaces: set[str] = set()
        for index, item in enumerate(items):
            if isinstance(item, Mapping) and item.get("kind", "Service") != "Service":
                continue
            meta = item.get("metadata") if isinstance(item, Mapping) else None
            if isinstance(meta, Mapping) and isinstance(meta.get("namespace"), str):
                namespaces.add(meta["namespace"])
            try:
                services.append(service_from_manifest(item))
            except InvalidValue as exc:
                problems.append(Skip(_item_ref(item, index), f"unreadable Service: {exc}", True))
        return cls(f"snapshot {name}", tuple(services), tuple(problems), frozenset(namespaces))

    def list_services(self, namespaces: Sequence[str]) -> Listing:
        """A namespace with no item at all counts as missing: a snapshot cannot tell an empty
        namespace from one that does not exist."""
        wanted = set(namespaces)
        return Listing(
            tuple(s for s in self.services if s.namespace in wanted),
            self.problems,
            tuple(ns for ns in dict.fromkeys(namespaces) if ns not in self.namespaces),
        )

    def get_service(self, namespace: str, name: str) -> KubeService | None:
        """The Service, None when absent; an unreadable one is an error, not "not found"."""
        for service in self.services:
            if (service.namespace, service.name) == (namespace, name):
                return service
        for problem in self.problems:
            if problem.ref == f"{namespace}/{name}":
                raise SourceError(f"service {problem.ref} in {self.description}: {problem.reason}")
        return None


def _parse_document(text: str, name: str) -> Any:
    if text.lstrip().startswith("{"):
        try:
            return loads_json(text)
        except DuplicateKey as exc:
            raise SourceError(f"snapshot {name} has a duplicate key {shown(exc.args[0])}") from None
        except RecursionError:
            raise SourceError(f"snapshot {name} is nested too deeply") from None
        except ValueError as exc:  # JSONDecodeError, and the NaN refusal
            detail = " ".join(str(exc).split())[:200]
            raise SourceError(f"snapshot {name} is not valid JSON: {detail}") from None
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
    except DuplicateKey as exc:
        raise SourceError(f"snapshot {name} has a duplicate key {shown(exc.args[0])}") from None
    except RecursionError:
        raise SourceError(f"snapshot {name} is nested too deeply") from None
    except (yaml.YAMLError, ValueError, TypeError) as exc:
        # ValueError/TypeError: PyYAML's constructors raise them for some malformed scalars
        # (a timestamp such as 2026-13-45).
        detail = " ".join(str(exc).split())[:200]
        raise SourceError(f"snapshot {name} is not valid YAML: {detail}") from None
