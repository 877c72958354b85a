"""The three commands as plain typed functions: inputs in, a result out, nothing printed.

``discover`` reads and recognises; ``render`` also writes the files to a directory; ``sync``
commits them to a Git repository. All three share :func:`plan_state`, so what ``discover``
shows is what ``sync`` commits.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from nexus_gitops.commit.git import Identity
from nexus_gitops.commit.store import CommitResult, DirectoryStore, GitStore, open_repository
from nexus_gitops.config import Config
from nexus_gitops.discover import Source
from nexus_gitops.discover.address import IngressAddress, ingress_address
from nexus_gitops.discover.recognise import recognise
from nexus_gitops.model import DesiredState
from nexus_gitops.plan.files import FilePlan, plan_files
from nexus_gitops.plan.routes import plan_routes
from nexus_gitops.plan.serials import assign_serials
from nexus_gitops.plan.summary import ChangeSummary, commit_message, summarize
from nexus_gitops.plan.zones import nameserver_names, plan_zones
from nexus_gitops.render import ingress_path, render_tree, zone_path
from nexus_gitops.validate.output import check_tree

DEFAULT_IDENTITY = Identity("nexus-gitops", "nexus-gitops@users.noreply.localhost")


@dataclass(frozen=True)
class Discovery:
    source: str
    address: IngressAddress
    desired: DesiredState


@dataclass(frozen=True)
class Outcome:
    """What ``render`` or ``sync`` did. ``commit`` is None when nothing changed."""

    discovery: Discovery
    plan: FilePlan
    summary: ChangeSummary
    commit: CommitResult | None = None


def plan_state(config: Config, source: Source) -> Discovery:
    """Discover, recognise and plan routes and zones (serials not yet assigned)."""
    listing = source.list_services(config.discovery.namespaces)
    address = ingress_address(config, source)
    recognition = recognise(listing.services, config)
    reserved = nameserver_names(config) if config.dns.enabled else {}
    routes, conflicts = plan_routes(recognition.apis, config, reserved)
    zones, unpublished = plan_zones(routes, address.ip, config) if config.dns.enabled else ((), ())
    skipped = tuple(
        sorted((*listing.problems, *recognition.skipped, *conflicts), key=lambda s: s.ref)
    )
    desired = DesiredState(address.ip, routes, zones, skipped, unpublished)
    return Discovery(source.description, address, desired)


def _render_against(
    discovery: Discovery, config: Config, current: dict[str, bytes], today: dt.date
) -> FilePlan:
    """Assign serials against the current zone files, render, check, and plan the changes."""
    previous = {
        zone.filename: current[zone_path(zone.filename)].decode(errors="replace")
        for zone in discovery.desired.zones
        if zone_path(zone.filename) in current
    }
    zones = assign_serials(discovery.desired.zones, previous, today)
    tree = render_tree(dataclasses.replace(discovery.desired, zones=zones), config)
    check_tree(tree)
    return plan_files(current, tree)


def _summary(discovery: Discovery, plan: FilePlan, current: dict[str, bytes]) -> ChangeSummary:
    described = {ingress_path(route): route.describe() for route in discovery.desired.routes}
    return summarize(plan, current, described)


def render(config: Config, source: Source, out: Path, today: dt.date) -> Outcome:
    """Write the files to a directory, keeping serials of zone files already there."""
    discovery = plan_state(config, source)
    store = DirectoryStore(out)
    current = store.read()
    plan = _render_against(discovery, config, current, today)
    store.apply(plan)
    return Outcome(discovery, plan, _summary(discovery, plan, current))


def identity_from(config: Config, environ: dict[str, str]) -> Identity:
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
    today: dt.date,
    identity: Identity = DEFAULT_IDENTITY,
    token: str | None = None,
) -> Outcome:
    """Commit the rendered files under ``subdir`` of ``repo``; no commit when nothing changed."""
    discovery = plan_state(config, source)
    with open_repository(repo, subdir, identity, config.git.branch, token) as store:
        return _commit(discovery, config, store, today)


def _commit(discovery: Discovery, config: Config, store: GitStore, today: dt.date) -> Outcome:
    current = store.read()
    plan = _render_against(discovery, config, current, today)
    summary = _summary(discovery, plan, current)
    if plan.empty:
        return Outcome(discovery, plan, summary)
    result = store.commit(plan, commit_message(summary, discovery.source))
    return Outcome(discovery, plan, summary, result)
