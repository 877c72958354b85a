"""A last check of the rendered tree before anything is written.

Inputs were validated on the way in; this catches the other half, a template or renderer bug,
so that a broken zone file, config line or manifest never reaches the repository the cluster
syncs from. Manifests are checked line by line against what the emitter writes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from nexus_gitops.errors import OutputError

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
        elif path.endswith(".json"):
            _check_state(path, text)


_SCALAR = r"(?:[A-Za-z/][A-Za-z0-9._/()|$*+-]*|'(?:[ -&(-~]|'')*'|-?[0-9]+)"
_MANIFEST_LINE = re.compile(
    rf"(?P<indent> *)(?:- )?(?P<key>{_SCALAR})(?:: (?P<value>{_SCALAR}|\{{\}}|\[\])|:)?"
)
"""A line as :func:`nexus_gitops.render.yaml.dump` writes it: a plain or single-quoted key or
item, optionally a value. Checking lines instead of parsing keeps the check linear and cheap at
tens of thousands of files; tests read every rendered manifest back with PyYAML."""
_NOT_A_STRING = re.compile(r"-?[0-9]+|y|n|yes|no|on|off|null|true|false", re.IGNORECASE)
_NEVER_PLAIN = re.compile(r"y|n|yes|no|on|off|null", re.IGNORECASE)


def _check_manifest(path: str, text: str) -> None:
    """Line by line; label and annotation values must read as strings (a YAML 1.1 parser
    reads a plain ``off`` as false, and the API server refuses it)."""
    lines = text.split("\n")
    if not lines[0].startswith("# ") or lines[-1] != "":
        raise OutputError(f"rendered {path} does not start with its ownership line")
    strings_below: int | None = None
    for number, line in enumerate(lines[1:-1], start=2):
        match = _MANIFEST_LINE.fullmatch(line)
        if match is None:
            raise OutputError(f"rendered {path} line {number} is not plain YAML")
        indent, key, value = len(match["indent"]), match["key"], match["value"]
        if strings_below is not None and indent <= strings_below:
            strings_below = None
        for scalar in (key, value):
            if scalar is not None and _NEVER_PLAIN.fullmatch(scalar):
                raise OutputError(f"rendered {path} line {number}: {scalar} is not a string")
        if strings_below is not None and value is not None and _NOT_A_STRING.fullmatch(value):
            raise OutputError(
                f"rendered {path} line {number}: a label or annotation value does not read "
                "as a string"
            )
        if key in ("labels", "annotations") and value is None:
            strings_below = indent
    if "\nkind: " not in text:
        raise OutputError(f"rendered {path} is not a Kubernetes object")


def _check_state(path: str, text: str) -> None:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        raise OutputError(f"rendered {path} is not valid JSON") from None


def _check_zone(path: str, text: str, origin: str) -> None:
    # Imported here: dnspython costs ~35 ms, paid only when a zone is actually checked.
    import dns.exception
    import dns.zone

    try:
        dns.zone.from_text(text, origin=origin, relativize=False, check_origin=True)
    except dns.exception.DNSException as exc:
        raise OutputError(f"rendered {path} is not a valid zone: {exc}") from None


def _check_dnsmasq(path: str, text: str) -> None:
    for number, line in enumerate(text.split("\n"), start=1):
        if not _DNSMASQ_LINE.fullmatch(line):
            raise OutputError(f"rendered {path} line {number} is not an expected directive")
