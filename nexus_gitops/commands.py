"""The commands as plain typed functions: inputs in, a result out, nothing printed.

Every command runs the same pipeline, so what ``discover`` and ``plan`` show is what ``sync``
commits::

    discover (Services -> APIs)          read_state (committed files -> incumbents)
                 \\                         /
                  plan_routes -> policy -> zones -> serials -> render -> files -> guards
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from nexus_gitops.commit.git import Identity
from nexus_gitops.commit.publish import BranchPublisher, Publisher
from nexus_gitops.commit.store import CommitResult, DirectoryStore, open_repository
from nexus_gitops.config import Config, Policy
from nexus_gitops.discover import Source
from nexus_gitops.discover.address import IngressAddress, ingress_address
from nexus_gitops.discover.committed import read_state
from nexus_gitops.discover.recognise import recognise
from nexus_gitops.errors import GuardError
from nexus_gitops.model import Api, DesiredState, Skip, Zone, route_key
from nexus_gitops.plan import guards
from nexus_gitops.plan.changes import ChangePlan, diff, zone_records
from nexus_gitops.plan.files import FilePlan, plan_files
from nexus_gitops.plan.policy import POLICIES
from nexus_gitops.plan.routes import plan_routes
from nexus_gitops.plan.serials import assign_serials
from nexus_gitops.plan.summary import commit_message
from nexus_gitops.plan.zones import plan_zones
from nexus_gitops.render import render_tree, render_zone, zone_path
from nexus_gitops.validate.output import check_tree

DEFAULT_IDENTITY = Identity("nexus-gitops", "nexus-gitops@users.noreply.localhost")


@dataclass(frozen=True)
class Discovery:
    """What the cluster holds: the APIs recognised and every Service skipped, with why."""

    source: str
    address: IngressAddress | None
    apis: tuple[Api, ...]
    skipped: tuple[Skip, ...]
    namespaces: tuple[str, ...]
    missing_namespaces: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunOptions:
    """What one run may do: the owner id it writes as, its policy and its one-off permissions."""

    today: dt.date
    owner: str
    policy: Policy = Policy.SYNC
    allow_deletions: bool = False
    allow_takeover: bool = False


@dataclass(frozen=True)
class Planned:
    """A run's plan: the desired state, what changes against the committed one, and why (if at
    all) it must not be committed."""

    discovery: Discovery
    desired: DesiredState
    changes: ChangePlan
    files: FilePlan
    refusals: tuple[guards.Refusal, ...]
    allowed: bool
    """``--allow-deletions`` was given, so the refusals are reported but do not block."""

    @property
    def blocked(self) -> bool:
        return bool(self.refusals) and not self.allowed

    @property
    def skipped(self) -> tuple[Skip, ...]:
        return self.desired.skipped


@dataclass(frozen=True)
class Outcome:
    """What ``render`` or ``sync`` did. ``commit`` is None when nothing was committed."""

    planned: Planned
    commit: CommitResult | None = None


def discover(config: Config, source: Source) -> Discovery:
    """Read the Services and recognise the APIs among them."""
    namespaces = config.discovery.namespaces
    listing = source.list_services(namespaces)
    address = ingress_address(config, source) if config.dns.enabled else None
    recognition = recognise(listing.services, config)
    return Discovery(
        source=source.description,
        address=address,
        apis=recognition.apis,
        skipped=tuple(sorted((*listing.problems, *recognition.skipped), key=lambda s: s.ref)),
        namespaces=namespaces,
        missing_namespaces=listing.missing_namespaces,
    )


def plan(
    discovery: Discovery, config: Config, current: Mapping[str, bytes], options: RunOptions
) -> Planned:
    """Plan against the committed files of the managed folder. Pure apart from the render."""
    committed = read_state(current)
    routed = plan_routes(discovery.apis, config, committed, allow_takeover=options.allow_takeover)
    routes = tuple(
        sorted(POLICIES[options.policy].apply(committed.routes, routed.routes), key=route_key)
    )
    zones: tuple[Zone, ...] = ()
    unpublished: tuple[str, ...] = ()
    if discovery.address is not None:
        zones, unpublished = plan_zones(routes, discovery.address.ip, config)
        committed_zones = {
            z.filename: current[zone_path(z.filename)]
            for z in zones
            if zone_path(z.filename) in current
        }
        zones = assign_serials(
            zones, committed_zones, lambda z: render_zone(z, options.owner), options.today
        )
    skipped = tuple(sorted((*discovery.skipped, *routed.skipped), key=lambda s: s.ref))
    desired = DesiredState(
        discovery.address.ip if discovery.address else None,
        routes,
        zones,
        routed.holds,
        skipped,
        unpublished,
    )
    tree = render_tree(desired, config, options.owner)
    files = plan_files(current, tree, options.owner)
    # Only what changes is checked: what is unchanged is what a previous run checked.
    check_tree({c.path: c.content for c in files.changes if c.content is not None})
    changes = diff(committed.routes, routes, committed.records, zone_records(zones))
    refusals = guards.check(
        changes,
        committed_routes=len(committed.routes),
        apis_found=len(discovery.apis),
        namespaces=discovery.namespaces,
        missing_namespaces=discovery.missing_namespaces,
        max_delete_percent=config.safety.max_delete_percent,
    )
    return Planned(discovery, desired, changes, files, refusals, options.allow_deletions)


def refuse_if_blocked(planned: Planned) -> None:
    if planned.blocked:
        raise GuardError(
            "refusing to commit: " + "; ".join(r.reason for r in planned.refusals),
            hint=guards.ALLOW_HINT,
        )


def render(config: Config, source: Source, out: Path, options: RunOptions) -> Outcome:
    """Write the files to a directory, keeping serials of zone files already there."""
    store = DirectoryStore(out)
    planned = plan(discover(config, source), config, store.read(), options)
    refuse_if_blocked(planned)
    store.apply(planned.files)
    return Outcome(planned)


def identity_from(config: Config, environ: Mapping[str, str]) -> Identity:
    """Author from config, else from GIT_AUTHOR_NAME/EMAIL, else nexus-gitops' own; never the
    machine's git config."""
    return Identity(
        config.git.author_name or environ.get("GIT_AUTHOR_NAME") or DEFAULT_IDENTITY.name,
        config.git.author_email or environ.get("GIT_AUTHOR_EMAIL") or DEFAULT_IDENTITY.email,
    )


def sync(
    config: Config,
    source: Source,
    repo: str,
    subdir: str,
    options: RunOptions,
    identity: Identity = DEFAULT_IDENTITY,
    token: str | None = None,
    *,
    dry_run: bool = False,
) -> Outcome:
    """Commit the rendered files under ``subdir`` of ``repo``; no commit when nothing changed.

    With ``dry_run`` (``plan``, ``sync --dry-run``) the plan is returned and nothing is written.
    """
    discovery = discover(config, source)
    with open_repository(repo, subdir, identity, config.git.branch, token) as store:
        publisher: Publisher = BranchPublisher(store)
        planned = plan(discovery, config, publisher.read(), options)
        if dry_run:
            return Outcome(planned)
        refuse_if_blocked(planned)
        if planned.files.empty:
            return Outcome(planned)
        message = commit_message(planned.changes, planned.files, discovery.source)
        return Outcome(planned, publisher.publish(planned.files, message))
