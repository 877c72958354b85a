"""Policies, as external-dns has them: what a run may do to routes that are committed.

Each is a tiny strategy that decides the routes to commit from the committed ones and the
desired ones. A committed route kept by a policy never shares a claim with a desired route, so
what is kept can always be rendered beside what is new.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from nexus_gitops.config import Policy
from nexus_gitops.model import Route, route_key


class RoutePolicy(Protocol):
    def apply(self, committed: Sequence[Route], desired: Sequence[Route]) -> list[Route]:
        """The routes to commit."""
        ...


def _free(route: Route, taken: set[object]) -> bool:
    return not taken.intersection(route.claims())


class Sync:
    """Make the committed routes exactly the desired ones (the default)."""

    def apply(self, committed: Sequence[Route], desired: Sequence[Route]) -> list[Route]:
        return list(desired)


class UpsertOnly:
    """Add and change routes, never delete one: a committed route that is no longer desired is
    kept unless a desired route now takes one of its claims."""

    def apply(self, committed: Sequence[Route], desired: Sequence[Route]) -> list[Route]:
        keys = {route_key(r) for r in desired}
        taken: set[object] = {claim for route in desired for claim in route.claims()}
        kept = [r for r in committed if route_key(r) not in keys and _free(r, taken)]
        return [*desired, *kept]


class CreateOnly:
    """Only add routes: committed routes stay exactly as they are."""

    def apply(self, committed: Sequence[Route], desired: Sequence[Route]) -> list[Route]:
        keys = {route_key(r) for r in committed}
        taken: set[object] = {claim for route in committed for claim in route.claims()}
        new = [r for r in desired if route_key(r) not in keys and _free(r, taken)]
        return [*committed, *new]


POLICIES: Mapping[Policy, RoutePolicy] = {
    Policy.SYNC: Sync(),
    Policy.UPSERT_ONLY: UpsertOnly(),
    Policy.CREATE_ONLY: CreateOnly(),
}
