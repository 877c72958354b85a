"""Deterministic YAML: same data, same bytes, read alike by YAML 1.1 and 1.2 parsers.

Kubernetes tooling (kubectl, Argo CD, Flux, kustomize) parses YAML 1.1, where ``off``, ``on``,
``yes`` and ``no`` are booleans: an annotation ``proxy-request-buffering: off`` would reach the
API server as ``false`` and be refused. Output is written by PyYAML (libyaml when present), whose
YAML 1.1 resolver quotes such strings; strings that only YAML 1.2 would read as non-strings are
quoted too. :mod:`nexus_gitops.validate.output` checks the result with a YAML 1.1 parser.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

_YAML12_ONLY = re.compile(r"^[-+]?(0o[0-7]+|\.[0-9]+|[0-9]+\.)$")

_Dumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Quoted(str):
    """A string that must be quoted whatever the resolver thinks of it."""


class _OutputDumper(_Dumper):  # type: ignore[misc, valid-type]
    pass


def _represent_quoted(dumper: yaml.SafeDumper, value: _Quoted) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style='"')


_OutputDumper.add_representer(_Quoted, _represent_quoted)


def _marked(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _marked(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_marked(item) for item in node]
    if isinstance(node, str) and _YAML12_ONLY.match(node):
        return _Quoted(node)
    return node


def header(marker: str, comment: str = "#") -> str:
    """The first line of every file: who owns it, and that hand edits will be overwritten."""
    return f"{comment} {marker}. Do not edit: the next sync overwrites this file.\n"


def dump(document: Any, marker: str | None = None) -> bytes:
    """Dump one document, after the ownership line when ``marker`` is given, in the order the
    document was built."""
    text = yaml.dump(
        _marked(document),
        Dumper=_OutputDumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=False,
        width=4096,  # never fold a long regex or annotation across lines
    )
    return ((header(marker) if marker else "") + text).encode()
