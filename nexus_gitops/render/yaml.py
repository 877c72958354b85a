"""Deterministic YAML: same data, same bytes, readable by YAML 1.1 and 1.2 parsers alike.

Kubernetes tooling (kubectl, Argo CD, Flux, kustomize) parses with YAML 1.1 rules, where ``off``,
``on``, ``yes`` and ``no`` are booleans; an annotation ``proxy-request-buffering: off`` would
reach the API server as ``false`` and be refused. Every string that either version could read
as something other than a string is therefore written double-quoted.
"""

from __future__ import annotations

import io
import re
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from nexus_gitops.plan.files import MARKER

HEADER = f"# {MARKER}. Do not edit: the next sync overwrites this file.\n"

_YAML11_SPECIAL = re.compile(
    r"""^(
        y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF
        |~|null|Null|NULL|
        |[-+]?(0|[1-9][0-9_]*)(\.[0-9_]*)?([eE][-+]?[0-9]+)?
        |[-+]?0[0-7_]+|[-+]?0x[0-9a-fA-F_]+|[-+]?0b[01_]+|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+
        |[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)
    )$""",
    re.VERBOSE,
)


def _quoted(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _quoted(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_quoted(item) for item in node]
    if isinstance(node, str) and _YAML11_SPECIAL.match(node):
        return DoubleQuotedScalarString(node)
    return node


def dump(document: Any) -> bytes:
    """Dump one document after the ownership header line, in the order it was built."""
    yaml = YAML(typ="rt", pure=True)
    yaml.default_flow_style = False
    yaml.width = 4096  # never fold a long regex or annotation across lines
    stream = io.StringIO()
    yaml.dump(_quoted(document), stream)
    return (HEADER + stream.getvalue()).encode()
