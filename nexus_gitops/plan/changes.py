"""The change plan: what a run does to routes and DNS records, against what is committed.

This is what people review (``nexus-gitops plan``, the commit message, a pull request), so it is
computed from the model, never by reading rendered YAML back: routes added, removed and changed,
claims taken over by another Service, and address records added, removed and changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from nexus_gitops.model import Claim, Record, Route, Zone, route_key


@dataclass(frozen=True)
class Takeover:
    """A prefix or host that moves from one Service to another."""

    claim: Claim
    before: str
    after: str


@dataclass(frozen=True)
class RecordChange:
    """One address record; ``before`` or ``after`` is None when it is added or removed."""

    name: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class ChangePlan:
    added: tuple[Route, ...] = ()
    removed: tuple[Route, ...] = ()
    changed: tuple[tuple[Route, Route], ...] = ()
    takeovers: tuple[Takeover, ...] = ()
    records: tuple[RecordChange, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.records)


def zone_records(zones: Iterable[Zone]) -> tuple[Record, ...]:
    """Every address record the zones publish, name server glue included."""
    records = {Record(zone.nameserver, zone.nameserver_address) for zone in zones}
    records.update(record for zone in zones for record in zone.records)
    return tuple(sorted(records, key=lambda r: (r.name, r.address)))


def _holders(routes: Iterable[Route]) -> dict[Claim, str]:
    return {
        claim: route.backend.ref
        for route in routes
        for claim in route.claims()
        if claim.kind != "name"
    }


def diff(
    before: Sequence[Route],
    after: Sequence[Route],
    records_before: Sequence[Record],
    records_after: Sequence[Record],
) -> ChangePlan:
    """Routes are matched by ``(namespace, name)``; records by name."""
    old = {route_key(r): r for r in before}
    new = {route_key(r): r for r in after}
    old_holders, new_holders = _holders(before), _holders(after)
    takeovers = tuple(
        Takeover(claim, holder, new_holders[claim])
        for claim, holder in sorted(old_holders.items())
        if claim in new_holders and new_holders[claim] != holder
    )
    old_records = _by_name(records_before)
    new_records = _by_name(records_after)
    records = tuple(
        RecordChange(name, old_records.get(name), new_records.get(name))
        for name in sorted(old_records.keys() | new_records.keys())
        if old_records.get(name) != new_records.get(name)
    )
    return ChangePlan(
        added=tuple(new[k] for k in sorted(new.keys() - old.keys())),
        removed=tuple(old[k] for k in sorted(old.keys() - new.keys())),
        changed=tuple(
            (old[k], new[k]) for k in sorted(old.keys() & new.keys()) if old[k] != new[k]
        ),
        takeovers=takeovers,
        records=records,
    )


def _by_name(records: Sequence[Record]) -> dict[str, str]:
    grouped: dict[str, list[str]] = {}
    for record in records:
        grouped.setdefault(record.name, []).append(record.address)
    return {name: ", ".join(sorted(addresses)) for name, addresses in grouped.items()}
