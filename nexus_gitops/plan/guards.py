"""Guards against mass deletion: a bad discovery must never be committed quietly.

Argo CD and Flux prune what leaves the repository, so a namespace typo, an RBAC change that
empties the Service list, or a half-failed discovery would take the OpenStack APIs off the air
within minutes. Each guard is a pure check on the plan; any that fires refuses the whole run
(nothing is committed) unless ``--allow-deletions`` is given for that run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nexus_gitops.plan.changes import ChangePlan

ALLOW_HINT = "if this is intended, run once with --allow-deletions"


@dataclass(frozen=True)
class Refusal:
    """Why a run must not commit, in one line."""

    reason: str


def check(
    plan: ChangePlan,
    committed_routes: int,
    apis_found: int,
    namespaces: Sequence[str],
    missing_namespaces: Sequence[str],
    max_delete_percent: int,
) -> tuple[Refusal, ...]:
    refusals: list[Refusal] = []
    for namespace in missing_namespaces:
        refusals.append(
            Refusal(f"namespace {namespace} does not exist or has no Services (misspelt?)")
        )
    if apis_found == 0:
        refusals.append(
            Refusal(f"discovery found no OpenStack API in namespace(s) {', '.join(namespaces)}")
        )
    removed = len(plan.removed)
    if committed_routes and removed * 100 > committed_routes * max_delete_percent:
        refusals.append(
            Refusal(
                f"{removed} of {committed_routes} committed routes would be removed "
                f"({removed * 100 // committed_routes}%, more than "
                f"safety.max_delete_percent {max_delete_percent}%)"
            )
        )
    return tuple(refusals)
