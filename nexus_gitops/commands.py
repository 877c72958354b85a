"""The commands as plain typed functions: inputs in, a result out, nothing printed.

Every command runs the same pipeline, so what ``discover`` and ``plan`` show is what ``sync``
commits::

    discover (Services -> APIs)          read_state (committed files -> incumbents)
                 \\                         /
                  plan_routes -> policy -> zones -> serials -> render -> files -> guards
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from nexus_gitops import report
from nexus_gitops.commit.forge import Comment, Forge, ForgeRepository
from nexus_gitops.commit.forge.locate import locate, open_forge
from nexus_gitops.commit.git import Identity
from nexus_gitops.commit.publish import BranchPublisher, Change, Publisher
from nexus_gitops.commit.pull_request import PullRequestPublisher, Review, Settings, head_branch
from nexus_gitops.commit.remote import PushRejected
from nexus_gitops.commit.store import CommitResult, DirectoryStore, GitStore, open_repository
from nexus_gitops.config import Config, GitMode, Policy
from nexus_gitops.discover import Source
from nexus_gitops.discover.address import IngressAddress, ingress_address
from nexus_gitops.discover.committed import read_state
from nexus_gitops.discover.recognise import recognise
from nexus_gitops.errors import GitError, GuardError
from nexus_gitops.model import (
    STATE_FILE,
    Api,
    CommittedState,
    DesiredState,
    Skip,
    Zone,
    route_key,
)
from nexus_gitops.plan import guards
from nexus_gitops.plan.changes import ChangePlan, diff, zone_records
from nexus_gitops.plan.digest import blob_id, files_digest, inputs_digest
from nexus_gitops.plan.files import FilePlan, plan_files
from nexus_gitops.plan.policy import POLICIES
from nexus_gitops.plan.routes import plan_routes
from nexus_gitops.plan.serials import assign_serials
from nexus_gitops.plan.summary import change_key, commit_message, headline
from nexus_gitops.plan.zones import plan_zones
from nexus_gitops.render import render_tree, render_zone, zone_path
from nexus_gitops.validate.output import check_tree

BACKOFF_BASE = 0.05
BACKOFF_CAP = 2.0
"""Seconds: the n-th retry waits a random time up to min(cap, base * 2**n)."""
_LOG = logging.getLogger(__name__)

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
    unchanged: bool = False
    """The committed state was written from these very inputs: nothing was planned again."""
    warnings: tuple[str, ...] = ()
    """Things the operator should fix that do not stop the run; the CLI prints them."""

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
    review: Review | None = None
    """What happened to the pull request (``git.mode: pull-request``)."""
    comment: PlanComment | None = None
    """The plan comment posted on a person's pull request (``plan --comment``)."""


@dataclass(frozen=True)
class PlanComment:
    number: int
    comment: Comment
    action: str
    """``created``, ``edited`` or ``unchanged``."""


def plan_marker(owner: str) -> str:
    return f"<!-- nexus-gitops:plan owner={owner} -->"


def post_plan(forge: Forge, number: int, planned: Planned, owner: str) -> PlanComment:
    """One comment per pull request and owner, found by its hidden marker and edited in place
    on every push, never a new comment per push."""
    mark = plan_marker(owner)
    body = f"{report.comment_body(planned)}\n{mark}\n"
    mine = [c for c in forge.comments(number) if mark in c.body]
    if not mine:
        return PlanComment(number, forge.create_comment(number, body), "created")
    if mine[0].body.replace("\r\n", "\n").strip() == body.strip():
        return PlanComment(number, mine[0], "unchanged")
    return PlanComment(number, forge.edit_comment(number, mine[0].id, body), "edited")


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


class CommittedFiles(Protocol):
    """The managed folder as committed: blob ids cheaply, contents on request."""

    def listing(self) -> Mapping[str, str]: ...

    def read(self, paths: Iterable[str] | None = None) -> dict[str, bytes]: ...


class MemoryFiles:
    """Committed files held in memory (``discover`` has none; tests build them)."""

    def __init__(self, files: Mapping[str, bytes] | None = None) -> None:
        self._files = dict(files or {})

    def listing(self) -> dict[str, str]:
        return {path: blob_id(content) for path, content in self._files.items()}

    def read(self, paths: Iterable[str] | None = None) -> dict[str, bytes]:
        wanted = self._files if paths is None else paths
        return {p: self._files[p] for p in wanted if p in self._files}


def plan(
    discovery: Discovery,
    config: Config,
    committed_files: CommittedFiles | Mapping[str, bytes],
    options: RunOptions,
) -> Planned:
    """Plan against the committed files of the managed folder. Pure apart from the render.

    When the committed state was written from exactly these inputs and the folder is as that
    run left it, the plan is known without planning (:mod:`nexus_gitops.plan.digest`).
    """
    files = (
        MemoryFiles(committed_files) if isinstance(committed_files, Mapping) else committed_files
    )
    address = discovery.address.ip if discovery.address else None
    inputs = inputs_digest(
        discovery.apis,
        address,
        discovery.missing_namespaces,
        config,
        (options.owner, options.policy, options.allow_deletions, options.allow_takeover),
    )
    listing = files.listing()
    planned: Planned | None = None
    if STATE_FILE in listing:
        state = read_state(files.read([STATE_FILE]))
        if (
            state.inputs == inputs
            and state.owner == options.owner
            and state.files == files_digest(listing)
        ):
            planned = _unchanged(discovery, config, state, options)
    if planned is None:
        planned = _plan(discovery, config, files.read(), options, inputs)
    return dataclasses.replace(planned, warnings=config_warnings(discovery, config))


def config_warnings(discovery: Discovery, config: Config) -> tuple[str, ...]:
    """Warnings about the config itself, the same for every command that plans."""
    if config.dns.enabled and config.dns.loadbalancer_ip is None and discovery.address:
        return (
            "dns.loadbalancer_ip is not set: the zones name the ingress address "
            f"{discovery.address.ip} as their name server, so clients will be sent to the "
            "ingress for DNS (set it to the DNS servers' LoadBalancer IP)",
        )
    return ()


def _unchanged(
    discovery: Discovery, config: Config, state: CommittedState, options: RunOptions
) -> Planned:
    skipped = tuple(sorted((*discovery.skipped, *state.conflicts), key=lambda s: s.ref))
    desired = DesiredState(
        discovery.address.ip if discovery.address else None,
        state.routes,
        (),
        state.holds,
        skipped,
    )
    changes = ChangePlan()
    return Planned(
        discovery,
        desired,
        changes,
        FilePlan(()),
        _guards(discovery, config, changes, len(state.routes)),
        options.allow_deletions,
        unchanged=True,
    )


def _guards(
    discovery: Discovery, config: Config, changes: ChangePlan, committed_routes: int
) -> tuple[guards.Refusal, ...]:
    return guards.check(
        changes,
        committed_routes=committed_routes,
        apis_found=len(discovery.apis),
        namespaces=discovery.namespaces,
        missing_namespaces=discovery.missing_namespaces,
        max_delete_percent=config.safety.max_delete_percent,
    )


def _plan(
    discovery: Discovery,
    config: Config,
    current: Mapping[str, bytes],
    options: RunOptions,
    inputs: str,
) -> Planned:
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
    tree = render_tree(desired, config, options.owner, routed.skipped, inputs)
    file_plan = _without_digest_only_change(plan_files(current, tree, options.owner), current)
    # Only what changes is checked: what is unchanged is what a previous run checked.
    check_tree({c.path: c.content for c in file_plan.changes if c.content is not None})
    changes = diff(committed.routes, routes, committed.records, zone_records(zones))
    refusals = _guards(discovery, config, changes, len(committed.routes))
    return Planned(discovery, desired, changes, file_plan, refusals, options.allow_deletions)


_DIGEST_LINES = re.compile(rb'^ "(inputs|files)": ("[0-9a-f]{64}"|null),\n', re.MULTILINE)


def _without_digest_only_change(files: FilePlan, current: Mapping[str, bytes]) -> FilePlan:
    """No commit when only the recorded digests would change: new inputs that give the same
    output (an upsert-only run that keeps what it would delete) are not worth a commit, and
    such runs simply keep taking the full path."""
    if len(files.changes) != 1 or files.changes[0].path != STATE_FILE:
        return files
    new = files.changes[0].content or b""
    old = current.get(STATE_FILE, b"")
    if _DIGEST_LINES.sub(b"", new) == _DIGEST_LINES.sub(b"", old):
        return FilePlan(())
    return files


def refuse_if_blocked(planned: Planned) -> None:
    if planned.blocked:
        raise GuardError(
            "refusing to commit: " + "; ".join(r.reason for r in planned.refusals),
            hint=guards.ALLOW_HINT,
        )


def render(config: Config, source: Source, out: Path, options: RunOptions) -> Outcome:
    """Write the files to a directory, keeping serials of zone files already there."""
    store = DirectoryStore(out)
    planned = plan(discover(config, source), config, store, options)
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
    forge_token: str | None = None,
    comment_on: int | None = None,
) -> Outcome:
    """Commit the rendered files under ``subdir`` of ``repo``; no commit when nothing changed.
    With ``git.mode: pull-request`` the change is proposed as one pull request instead
    (:mod:`nexus_gitops.commit.pull_request`).

    With ``dry_run`` (``plan``, ``sync --dry-run``) the plan is returned and nothing is written.
    A push that loses a race (the branch moved meanwhile) is planned again against the new tip,
    with the same discovery, and pushed again, up to ``git.push_retries`` times.
    """
    discovery = discover(config, source)
    dry_run = dry_run or comment_on is not None
    proposing = config.git.mode is GitMode.PULL_REQUEST and not dry_run
    with open_repository(
        repo,
        subdir,
        identity,
        config.git.branch,
        token,
        float(config.git.lock_timeout),
        read_only=dry_run or proposing,
    ) as store:
        if comment_on is not None:
            outcome = publish_with_retries(
                BranchPublisher(store), discovery, config, options, dry_run=True
            )
            forge = open_forge(_forge_of(config, store), forge_token or token)
            try:
                posted = post_plan(forge, comment_on, outcome.planned, options.owner)
            finally:
                forge.close()
            return dataclasses.replace(outcome, comment=posted)
        if not proposing:
            return publish_with_retries(
                BranchPublisher(store), discovery, config, options, dry_run=dry_run
            )
        forge = open_forge(_forge_of(config, store), forge_token or token)
        try:
            publisher = PullRequestPublisher(
                store,
                forge,
                Settings(
                    head=head_branch(config.git.pr_branch, options.owner),
                    labels=config.forge.labels,
                    reviewers=config.forge.reviewers,
                    draft=config.forge.draft,
                    close_obsolete=config.forge.close_obsolete,
                    owner=options.owner,
                ),
            )
            return publish_with_retries(publisher, discovery, config, options)
        finally:
            forge.close()


def _forge_of(config: Config, store: GitStore) -> ForgeRepository:
    remote_url = None
    if store.remote is not None:
        found = store.git.run("remote", "get-url", store.remote, check=False)
        remote_url = found.stdout.decode().strip() or None
    return locate(config.forge.kind, config.forge.api_url, config.forge.repository, remote_url)


def _change(planned: Planned, owner: str) -> Change:
    dated = {zone_path(z.filename) for z in planned.desired.zones} | {STATE_FILE}
    return Change(
        files=planned.files,
        message=commit_message(planned.changes, planned.files, planned.discovery.source),
        title=headline(planned.changes),
        body=report.review_body(planned, owner),
        key=change_key(planned.changes, planned.files, dated),
    )


def publish_with_retries(
    publisher: Publisher,
    discovery: Discovery,
    config: Config,
    options: RunOptions,
    *,
    dry_run: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Plan against the publisher's committed files and publish; after a lost race, fetch,
    plan again (serials and the committed state are inputs) and retry with jittered
    exponential backoff, so racing writers spread out instead of colliding again."""
    tries = config.git.push_retries + 1
    for attempt in range(1, tries + 1):
        planned = plan(discovery, config, publisher, options)
        if dry_run:
            return Outcome(planned)
        refuse_if_blocked(planned)
        try:
            published = publisher.publish(_change(planned, options.owner))
            return Outcome(planned, published.commit, published.review)
        except PushRejected:
            if attempt == tries:
                break
        pause = random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt))  # noqa: S311
        _LOG.debug(
            "%s moved while this run pushed (try %d of %d): fetching, planning again in %.2fs",
            publisher.target,
            attempt,
            tries,
            pause,
        )
        sleep(pause)
        publisher.refresh()
    raise GitError(
        f"gave up after {tries} tries: {publisher.target} kept moving while this run pushed",
        hint="other writers push to the same branch; the next run starts from their commits "
        "(raise git.push_retries to try longer)",
    )
