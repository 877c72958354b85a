"""The state file: what this run committed, for the next run to read back.

external-dns keeps ownership in TXT records beside the records it manages; nexus-gitops keeps
``state.json`` beside the files it manages. It lists every route with its claims' holder, the
holds kept for Services that are gone, and the address records, so the next run knows the
incumbents and can say what changes without reading rendered YAML back. JSON, because Argo CD
and Flux only read the files that ``kustomization.yaml`` lists, and because it parses fast.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from nexus_gitops.model import (
    STATE_VERSION,
    Hold,
    HostRoute,
    PathRoute,
    Record,
    Route,
    Skip,
    Tuning,
)
from nexus_gitops.render.yaml import header


def tuning_fields(tuning: Tuning) -> dict[str, Any]:
    """The fields of a tuning that differ from the default, as JSON values."""
    defaults = Tuning()
    result: dict[str, Any] = {}
    for name in Tuning.__dataclass_fields__:
        value = getattr(tuning, name)
        if value != getattr(defaults, name):
            result[name] = list(value) if isinstance(value, tuple) else value
    return result


def route_fields(route: Route) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "kind": route.kind,
        "namespace": route.namespace,
        "name": route.name,
        "service": route.backend.service,
        "port": route.backend.port,
        "serviceType": route.service_type,
    }
    if isinstance(route, PathRoute):
        fields.update(prefix=route.prefix, host=route.host, catchAll=route.catch_all)
    elif isinstance(route, HostRoute):
        fields.update(hosts=list(route.hosts), dnsNames=list(route.dns_names))
    fields["tuning"] = tuning_fields(route.tuning)
    return fields


def state_file(
    marker: str,
    owner: str,
    routes: Sequence[Route],
    holds: Sequence[Hold],
    records: Sequence[Record],
    conflicts: Sequence[Skip] = (),
    inputs: str | None = None,
    files: str | None = None,
) -> bytes:
    document = {
        "managedBy": header(marker, "").strip(),
        "version": STATE_VERSION,
        "owner": owner,
        "inputs": inputs,
        "files": files,
        "routes": [route_fields(route) for route in routes],
        "holds": [
            {
                "kind": hold.claim.kind,
                "scope": hold.claim.scope,
                "value": hold.claim.value,
                "holder": hold.holder,
            }
            for hold in holds
        ],
        "records": [{"name": r.name, "address": r.address} for r in records],
        # Only conflict refusals: their reasons are made of names that passed their grammars.
        "conflicts": [{"service": s.ref, "reason": s.reason} for s in conflicts],
    }
    text = json.dumps(document, indent=1, ensure_ascii=True)
    # The marker must be on the first line, as in every other file this tool owns.
    return (text.replace("{\n ", "{", 1) + "\n").encode()
