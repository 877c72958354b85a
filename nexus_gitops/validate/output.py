"""A last check of the rendered tree before anything is written.

Inputs were validated on the way in; this catches the other half, a template or renderer bug,
so that a broken zone file, config line or manifest never reaches the repository the cluster
syncs from. Manifests are read back with a YAML 1.1 parser, as kubectl and Argo CD read them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import dns.exception
import dns.zone
import yaml

from nexus_gitops.errors import OutputError

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_DNSMASQ_LINE = re.compile(
    r"^(|#[^\n]*|no-resolv|local=/[a-z0-9.-]+/|server=[0-9a-f:.]+"
    r"|host-record=[a-z0-9.-]+,[0-9a-f:.]+,[0-9]+)$"
)


def check_tree(tree: Mapping[str, bytes]) -> None:
    """Raise :class:`OutputError` naming the first file that is not what it must be."""
    for path, content in tree.items():
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            raise OutputError(f"rendered {path} is not UTF-8") from None
        if path.endswith(".yaml"):
            _check_manifest(path, text)
        elif path.startswith("coredns/db."):
            _check_zone(path, text, path.removeprefix("coredns/db."))
        elif path.startswith("dnsmasq/"):
            _check_dnsmasq(path, text)


def _check_manifest(path: str, text: str) -> None:
    try:
        document: Any = yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise OutputError(f"rendered {path} is not valid YAML: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("kind"), str):
        raise OutputError(f"rendered {path} is not a Kubernetes object")
    metadata = document.get("metadata") or {}
    for field in ("labels", "annotations"):
        values = metadata.get(field) or {}
        if not all(isinstance(v, str) for v in values.values()):
            raise OutputError(f"rendered {path}: a {field} value does not read as a string")


def _check_zone(path: str, text: str, origin: str) -> None:
    try:
        dns.zone.from_text(text, origin=origin, relativize=False, check_origin=True)
    except dns.exception.DNSException as exc:
        raise OutputError(f"rendered {path} is not a valid zone: {exc}") from None


def _check_dnsmasq(path: str, text: str) -> None:
    for number, line in enumerate(text.split("\n"), start=1):
        if not _DNSMASQ_LINE.fullmatch(line):
            raise OutputError(f"rendered {path} line {number} is not an expected directive")
