"""Deterministic YAML: same data, same bytes, read alike by YAML 1.1 and 1.2 parsers.

Kubernetes tooling (kubectl, Argo CD, Flux, kustomize) parses YAML 1.1, where ``off``, ``on``,
``yes`` and ``no`` are booleans: an annotation ``proxy-request-buffering: off`` would reach the
API server as ``false`` and be refused.

Manifests are written by :func:`dump`, a small emitter for the only shapes this tool builds
(mappings with string keys, lists, strings, integers, booleans), in PyYAML's block style. A
string is written plain only when it matches a grammar that no YAML 1.1 or 1.2 resolver reads as
anything but a string (a letter or ``/`` first, no ``:``, ``#`` or spaces, not a boolean or null
word); every other string is single-quoted. It is some fifty times faster than PyYAML's
representer, which mattered at ten thousand Ingresses; ``tests/test_render.py`` checks that
PyYAML reads every rendered manifest back to the same data. :func:`dump_data` (PyYAML) is kept
for the CLI's ``-o yaml``, whose data may hold any text.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from nexus_gitops.errors import OutputError

_PLAIN = re.compile(r"[A-Za-z/][A-Za-z0-9._/()|$*+-]*")
_RESERVED = re.compile(
    r"y|n|yes|no|true|false|on|off|null",
    re.IGNORECASE,
)
_QUOTABLE = re.compile(r"[ -~]*")
"""Printable ASCII: what a single-quoted scalar can hold without escapes."""


class EmitError(OutputError):
    """A value the emitter cannot write without escaping: a renderer bug, never user input
    (every value passed its grammar on the way in), so nothing is written."""


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        raise EmitError(f"cannot write a {type(value).__name__} as a YAML scalar")
    if _PLAIN.fullmatch(value) and not _RESERVED.fullmatch(value):
        return value
    if not _QUOTABLE.fullmatch(value):
        raise EmitError(f"refusing to write {value!r}: not printable ASCII")
    return "'" + value.replace("'", "''") + "'"


def _mapping(node: dict[str, Any], indent: str, lines: list[str], first: str | None) -> None:
    """Write ``node`` at ``indent``; ``first`` is the prefix of the first line (``- `` for a
    mapping that is a list item)."""
    for number, (key, value) in enumerate(node.items()):
        lead = first if first is not None and number == 0 else indent
        name = _scalar(key)
        if isinstance(value, dict) and value:
            lines.append(f"{lead}{name}:")
            _mapping(value, indent + "  ", lines, None)
        elif isinstance(value, list) and value:
            lines.append(f"{lead}{name}:")
            _sequence(value, indent, lines)  # PyYAML's indentless sequences
        elif isinstance(value, dict):
            lines.append(f"{lead}{name}: {{}}")
        elif isinstance(value, list):
            lines.append(f"{lead}{name}: []")
        else:
            lines.append(f"{lead}{name}: {_scalar(value)}")


def _sequence(items: list[Any], indent: str, lines: list[str]) -> None:
    for item in items:
        if isinstance(item, dict) and item:
            _mapping(item, indent + "  ", lines, indent + "- ")
        elif isinstance(item, list | dict):
            raise EmitError("nested empty collections and lists of lists are never rendered")
        else:
            lines.append(f"{indent}- {_scalar(item)}")


def header(marker: str, comment: str = "#") -> str:
    """The first line of every file: who owns it, and that hand edits will be overwritten."""
    return f"{comment} {marker}. Do not edit: the next sync overwrites this file.\n"


def dump(document: dict[str, Any], marker: str | None = None) -> bytes:
    """One manifest, after the ownership line when ``marker`` is given, in the order the
    document was built."""
    lines: list[str] = []
    _mapping(document, "", lines, None)
    return ((header(marker) if marker else "") + "\n".join(lines) + "\n").encode()


_Dumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def dump_data(document: Any) -> str:
    """Any data as YAML, for people reading the CLI's output (not for files)."""
    return yaml.dump(
        document, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=4096
    )
