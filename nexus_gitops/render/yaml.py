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

from nexus_gitops.plan.files import MARKER

HEADER = f"# {MARKER}. Do not edit: the next sync overwrites this file.\n"

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


def dump(document: Any) -> bytes:
    """Dump one document after the ownership header line, in the order it was built."""
    text = yaml.dump(
        _marked(document),
        Dumper=_OutputDumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=False,
        width=4096,  # never fold a long regex or annotation across lines
    )
    return (HEADER + text).encode()
