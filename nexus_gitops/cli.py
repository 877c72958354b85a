"""Command line: parses arguments, calls :mod:`nexus_gitops.commands`, prints the result.

This is the only module that prints or exits. A :class:`~nexus_gitops.errors.NexusError`
becomes one line on stderr and exit status 1; usage errors exit 2 (click's convention).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import math
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from nexus_gitops import __version__, commands, logs, report
from nexus_gitops.commit.git import TOKEN_ENV
from nexus_gitops.commit.pull_request import Action, Review
from nexus_gitops.commit.store import check_subpath
from nexus_gitops.config import Config, GitMode, Policy, load_config
from nexus_gitops.config import owner_id as owner_id_grammar
from nexus_gitops.discover import Source, open_source
from nexus_gitops.errors import NexusError
from nexus_gitops.plan.guards import ALLOW_HINT
from nexus_gitops.plan.summary import headline
from nexus_gitops.render.state import route_fields
from nexus_gitops.render.yaml import dump_data
from nexus_gitops.validate.names import InvalidValue, shown

F = TypeVar("F", bound=Callable[..., Any])

LOG = logging.getLogger("nexus_gitops.cli")
ENV_PREFIX = "NEXUS_GITOPS_"


def today() -> dt.date:
    """Today in UTC, or the date of ``SOURCE_DATE_EPOCH`` for reproducible output."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC).date()
        except (ValueError, OverflowError, OSError):
            raise NexusError(f"SOURCE_DATE_EPOCH {epoch!r} is not a Unix time") from None
    return dt.datetime.now(tz=dt.UTC).date()


_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ms|s|m|h)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """Seconds from ``30``, ``30s``, ``0.5s``, ``1m``, ``1m30s`` or ``250ms`` (kubectl's
    ``--request-timeout`` syntax); raises ValueError. Zero is refused: an unattended run
    without a deadline can hang forever."""
    if re.fullmatch(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+", text):
        seconds = float(text)
    else:
        parts = _DURATION_PART.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            raise ValueError(f"{text!r} is not a duration such as 30s, 1m or 0.5")
        seconds = sum(float(number) * _UNITS[unit] for number, unit in parts)
    if not math.isfinite(seconds) or not 0 < seconds <= 86400:
        raise ValueError(f"{text!r} must be more than 0 and at most 24h")
    return seconds


class Duration(click.ParamType[float]):
    """``--request-timeout``'s type, so a bad value is a usage error (exit 2) naming the flag."""

    name = "duration"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, float):
            return value
        try:
            return parse_duration(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def _environment() -> dict[str, str]:
    """The environment, with the identity variables checked like their config keys: they end
    up in commit headers, where a newline would forge a header line."""
    environ = dict(os.environ)
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL"):
        value = environ.get(name)
        if value and not value.isprintable():
            raise NexusError(f"${name} {shown(value)} has a non-printable character")
    return environ


def common_options(function: F) -> F:
    options = [
        click.option(
            "--source",
            default="kubernetes",
            show_default=True,
            metavar="kubernetes|FILE",
            help="A live cluster, or a `kubectl get svc -A -o json|yaml` snapshot.",
        ),
        click.option(
            "--config",
            "config_path",
            type=click.Path(path_type=Path, dir_okay=False),
            help="YAML configuration (see README).",
        ),
        click.option(
            "--kubeconfig",
            type=click.Path(path_type=Path, dir_okay=False),
            help="kubeconfig file for --source kubernetes.",
        ),
        click.option("--context", help="kubeconfig context for --source kubernetes."),
        click.option(
            "--request-timeout",
            type=Duration(),
            default="30s",
            show_default=True,
            help="Deadline for all Kubernetes API calls together (30s, 1m, 0.5s or seconds).",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def run_options(function: F) -> F:
    """Options of the commands that plan against committed state."""
    options = [
        click.option(
            "--owner-id",
            help="Owner id written into every file (default: git.owner_id, else the --path).",
        ),
        click.option(
            "--policy",
            type=click.Choice([p.value for p in Policy]),
            help="sync (default), upsert-only (never delete) or create-only (only add).",
        ),
        click.option(
            "--allow-deletions",
            is_flag=True,
            help="Commit even when a deletion guard fires (this run only).",
        ),
        click.option(
            "--allow-takeover",
            is_flag=True,
            help="Let another Service take the claims of a committed route whose Service is gone.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _load(
    source: str,
    config_path: Path | None,
    kubeconfig: Path | None,
    context: str | None,
    request_timeout: float,
) -> tuple[Config, Source]:
    config = load_config(config_path)
    return config, open_source(
        source, kubeconfig=kubeconfig, context=context, request_timeout=request_timeout
    )


def _options(
    config: Config,
    default_owner: str,
    owner_id: str | None,
    policy: str | None,
    allow_deletions: bool,
    allow_takeover: bool,
) -> commands.RunOptions:
    owner = owner_id or config.git.owner_id or default_owner
    try:
        checked_owner = owner_id_grammar(owner)
    except InvalidValue as exc:
        raise NexusError(f"--owner-id: {exc}", hint="pass --owner-id explicitly") from None
    return commands.RunOptions(
        today=today(),
        owner=checked_owner,
        policy=Policy(policy) if policy else config.safety.policy,
        allow_deletions=allow_deletions,
        allow_takeover=allow_takeover,
    )


def _report(planned: commands.Planned) -> None:
    for skip in planned.skipped:
        if skip.problem:
            LOG.warning("skipped %s: %s", skip.ref, skip.reason)
    for warning in planned.warnings:
        LOG.warning("%s", warning)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="nexus-gitops")
@click.option("-v", "--verbose", count=True, help="More messages (progress, retries).")
@click.option("-q", "--quiet", count=True, help="Fewer messages: -q hides results, -qq warnings.")
@click.option(
    "--log-format",
    type=click.Choice([f.value for f in logs.LogFormat]),
    default="text",
    show_default=True,
    help="Messages as plain lines, or one JSON object per line on stderr (for log collectors).",
)
def cli(verbose: int, quiet: int, log_format: str) -> None:
    """Discover OpenStack APIs on Kubernetes; commit their Ingress and DNS config to Git.

    Every option can also be set as an environment variable NEXUS_GITOPS_<OPTION>, e.g.
    NEXUS_GITOPS_REPO or NEXUS_GITOPS_LOG_FORMAT; a flag given on the command line wins.
    """
    logs.configure(logs.LogFormat(log_format), verbose, quiet)


@cli.command()
@common_options
@click.option(
    "-o",
    "--output",
    type=click.Choice(["table", "yaml", "json"]),
    default="table",
    show_default=True,
)
def discover(
    source: str,
    config_path: Path | None,
    kubeconfig: Path | None,
    context: str | None,
    request_timeout: float,
    output: str,
) -> None:
    """Show the OpenStack APIs found, their routes, and every Service skipped with the reason.

    Conflicts are judged without the committed state; `plan` shows what `sync` would do.
    """
    config, src = _load(source, config_path, kubeconfig, context, request_timeout)
    found = commands.discover(config, src)
    planned = commands.plan(found, config, {}, _options(config, "nexus", None, None, False, False))
    desired = planned.desired
    _report(planned)
    if output == "table":
        if found.address:
            click.echo(f"ingress address: {found.address.ip} ({found.address.origin})")
        rows = [("ROUTE", "SERVICE TYPE", "BACKEND", "MATCH")]
        rows += [
            (
                f"{r.namespace}/{r.name}",
                r.service_type,
                str(r.backend),
                r.describe().split(" -> ", 1)[0],
            )
            for r in desired.routes
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        for row in rows:
            click.echo(
                "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3]
            )
        for skip in desired.skipped:
            click.echo(f"skipped {skip.ref}: {skip.reason}")
        for name in desired.unpublished:
            click.echo(f"not in any managed zone, no DNS record: {name}")
        for namespace in found.missing_namespaces:
            click.echo(f"namespace {namespace}: does not exist or has no Services")
        return
    document = {
        "source": found.source,
        "address": (
            {"ip": found.address.ip, "origin": found.address.origin} if found.address else None
        ),
        "routes": [route_fields(r) for r in desired.routes],
        "skipped": [
            {"service": s.ref, "reason": s.reason, "problem": s.problem} for s in desired.skipped
        ],
        "unpublished": list(desired.unpublished),
        "missingNamespaces": list(found.missing_namespaces),
    }
    if output == "json":
        click.echo(json.dumps(document, indent=2))
    else:
        click.echo(dump_data(document), nl=False)


@cli.command()
@common_options
@run_options
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Directory to write the files to.",
)
def render(
    source: str,
    config_path: Path | None,
    kubeconfig: Path | None,
    context: str | None,
    request_timeout: float,
    owner_id: str | None,
    policy: str | None,
    allow_deletions: bool,
    allow_takeover: bool,
    out: Path,
) -> None:
    """Write the Ingress and DNS files to a directory, without Git."""
    config, src = _load(source, config_path, kubeconfig, context, request_timeout)
    options = _options(config, "nexus", owner_id, policy, allow_deletions, allow_takeover)
    outcome = commands.render(config, src, out, options)
    _report(outcome.planned)
    LOG.info(
        "%s: %d file(s) changed (%d routes)",
        out,
        len(outcome.planned.files.changes),
        len(outcome.planned.desired.routes),
    )


def repo_options(function: F) -> F:
    options = [
        click.option(
            "--repo",
            required=True,
            metavar="PATH_OR_URL",
            help="A local Git checkout, or a URL to clone into a temporary directory.",
        ),
        click.option(
            "--path",
            "subdir",
            default="nexus",
            show_default=True,
            help="Folder inside the repository that nexus-gitops owns.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _print_plan(planned: commands.Planned, output: str) -> None:
    if output == "json":
        click.echo(report.as_json(planned), nl=False)
    elif output == "markdown":
        click.echo(report.markdown(planned), nl=False)
    else:
        click.echo(report.table(planned), nl=False)


PLAN_FORMATS = click.Choice(["table", "json", "markdown"])


@cli.command()
@common_options
@run_options
@repo_options
@click.option("-o", "--output", type=PLAN_FORMATS, default="table", show_default=True)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when nothing would change, 2 when something would, 1 on error (as Terraform).",
)
@click.option(
    "--comment",
    is_flag=True,
    help="Post the plan as one comment on the pull request --pr (edited in place on each push).",
)
@click.option(
    "--pr",
    "pr_number",
    type=click.IntRange(min=1),
    help="The pull request to comment on (default: the one in $GITHUB_EVENT_PATH, or "
    "$CI_MERGE_REQUEST_IID on GitLab).",
)
def plan(
    source: str,
    config_path: Path | None,
    kubeconfig: Path | None,
    context: str | None,
    request_timeout: float,
    owner_id: str | None,
    policy: str | None,
    allow_deletions: bool,
    allow_takeover: bool,
    repo: str,
    subdir: str,
    output: str,
    detailed_exitcode: bool,
    comment: bool,
    pr_number: int | None,
) -> None:
    """Show the routes and DNS records sync would add, remove, change and take over.

    Nothing is written to the repository. A guard that would refuse the sync makes the plan
    exit 1. With --comment the plan is also posted on a pull request (token in
    $NEXUS_GITOPS_FORGE_TOKEN) and appended to $GITHUB_STEP_SUMMARY when set.
    """
    number = (pr_number or _pull_request_number()) if comment else None
    if comment and number is None:
        raise NexusError(
            "plan --comment needs the pull request's number",
            hint="pass --pr NUMBER, or run in a pull_request workflow",
        )
    outcome = _sync(
        source,
        config_path,
        kubeconfig,
        context,
        request_timeout,
        repo,
        subdir,
        (owner_id, policy, allow_deletions, allow_takeover),
        dry_run=True,
        comment_on=number,
    )
    planned = outcome.planned
    _report(planned)
    _print_plan(planned, output)
    if outcome.comment is not None:
        LOG.info(
            "plan comment %s on #%d (%s)",
            outcome.comment.action,
            outcome.comment.number,
            outcome.comment.comment.id,
        )
        _append(os.environ.get("GITHUB_STEP_SUMMARY"), report.comment_body(planned))
    if planned.blocked:
        raise NexusError(
            "sync would refuse this plan: " + "; ".join(r.reason for r in planned.refusals),
            hint=ALLOW_HINT,
        )
    if detailed_exitcode and not planned.files.empty:
        sys.exit(2)


FORGE_TOKEN_ENV = "NEXUS_GITOPS_FORGE_TOKEN"  # noqa: S105 - a variable name


def _sync(
    source: str,
    config_path: Path | None,
    kubeconfig: Path | None,
    context: str | None,
    request_timeout: float,
    repo: str,
    subdir: str,
    run: tuple[str | None, str | None, bool, bool],
    *,
    dry_run: bool,
    pull_request: bool = False,
    comment_on: int | None = None,
) -> commands.Outcome:
    subdir = check_subpath(subdir)  # before the owner id is derived from it
    config, src = _load(source, config_path, kubeconfig, context, request_timeout)
    if pull_request:
        config = dataclasses.replace(
            config, git=dataclasses.replace(config.git, mode=GitMode.PULL_REQUEST)
        )
    options = _options(config, subdir, *run)
    identity = commands.identity_from(config, _environment())
    return commands.sync(
        config,
        src,
        repo,
        subdir,
        options,
        identity,
        token=os.environ.get(TOKEN_ENV) or None,
        dry_run=dry_run,
        forge_token=os.environ.get(FORGE_TOKEN_ENV) or None,
        comment_on=comment_on,
    )


@cli.command()
@common_options
@run_options
@repo_options
@click.option("--dry-run", is_flag=True, help="Print the plan (as `plan`) and commit nothing.")
@click.option(
    "-o",
    "--output",
    type=PLAN_FORMATS,
    default="table",
    show_default=True,
    help="Format of the plan with --dry-run.",
)
@click.option(
    "--pull-request",
    is_flag=True,
    help="Propose the change as one pull request into git.branch (as git.mode: pull-request). "
    "Exit 0: nothing to change; 2: the PR was opened, updated or closed; 1: error.",
)
def sync(
    source: str,
    config_path: Path | None,
    kubeconfig: Path | None,
    context: str | None,
    request_timeout: float,
    owner_id: str | None,
    policy: str | None,
    allow_deletions: bool,
    allow_takeover: bool,
    repo: str,
    subdir: str,
    dry_run: bool,
    output: str,
    pull_request: bool,
) -> None:
    """Commit the Ingress and DNS files to a Git repository, and push when it has a remote.

    No commit is made when nothing changed. For HTTPS remotes, a token in
    $NEXUS_GITOPS_GIT_TOKEN is sent as an HTTP header and never written to disk or logs.
    """
    outcome = _sync(
        source,
        config_path,
        kubeconfig,
        context,
        request_timeout,
        repo,
        subdir,
        (owner_id, policy, allow_deletions, allow_takeover),
        dry_run=dry_run,
        pull_request=pull_request,
    )
    planned = outcome.planned
    _report(planned)
    if dry_run:
        _print_plan(planned, output)
        return
    for refusal in planned.refusals:
        LOG.warning("allowed by --allow-deletions: %s", refusal.reason)
    if outcome.review is not None:
        _report_review(outcome.review)
        return
    routes = len(planned.desired.routes)
    if outcome.commit is None:
        LOG.info("up to date: %d routes, nothing to commit", routes)
        return
    where = f", pushed to {outcome.commit.pushed_to}" if outcome.commit.pushed_to else ""
    LOG.info(
        "committed %s on %s%s: %s",
        outcome.commit.commit[:12],
        outcome.commit.branch,
        where,
        headline(planned.changes).removeprefix("nexus-gitops: "),
    )


def _report_review(review: Review) -> None:
    """Say what happened to the pull request, write it to $GITHUB_OUTPUT for later steps, and
    exit 2 when the PR changed (as ``plan --detailed-exitcode``), 0 when nothing had to."""
    pull = review.pull_request
    if pull is None:
        LOG.info("up to date: nothing to propose, no pull request open")
    elif review.action is Action.DECLINED:
        LOG.info(
            "not proposed: a reviewer closed %s without merging it, for this same change",
            pull.url,
        )
    else:
        LOG.info("pull request %s: %s", review.action.value, pull.url)
        click.echo(pull.url)
    outputs = [f"pull-request-action={review.action.value}"]
    if pull is not None:
        outputs += [f"pull-request-number={pull.number}", f"pull-request-url={pull.url}"]
    _append(os.environ.get("GITHUB_OUTPUT"), "".join(f"{line}\n" for line in outputs))
    if review.action.changed:
        sys.exit(2)


def _append(path: str | None, text: str) -> None:
    if not path:
        return
    try:
        with Path(path).open("a", encoding="utf-8") as stream:
            stream.write(text if text.endswith("\n") else text + "\n")
    except OSError as exc:
        raise NexusError(f"cannot write {path}: {exc.strerror}") from None


def _pull_request_number() -> int | None:
    """The pull request a CI job runs for: GitHub's and Gitea's event file, or GitLab's
    merge request iid."""
    iid = os.environ.get("CI_MERGE_REQUEST_IID", "")
    if iid.isdigit():
        return int(iid)
    event = os.environ.get("GITHUB_EVENT_PATH")
    if not event:
        return None
    try:
        data = json.loads(Path(event).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise NexusError(f"$GITHUB_EVENT_PATH {event} is not a readable JSON event") from None
    number = (data.get("pull_request") or {}).get("number") if isinstance(data, dict) else None
    return number if isinstance(number, int) and number > 0 else None


def _with_environment_variables(group: click.Group) -> None:
    """Every long option reads NEXUS_GITOPS_<OPTION> (``--repo`` -> NEXUS_GITOPS_REPO), so a
    CronJob or CI job sets its flags in ``env:``. One name per option, whatever the command,
    as the README's table lists them; --help and --version are left alone."""
    commands_ = [group, *group.commands.values()]
    for command in commands_:
        for param in command.params:
            if not isinstance(param, click.Option) or param.envvar is not None:
                continue
            if param.name in ("help", "version"):
                continue
            long = next((o for o in param.opts if o.startswith("--")), None)
            if long is None:
                continue
            param.envvar = ENV_PREFIX + long[2:].upper().replace("-", "_")
            param.show_envvar = True


_with_environment_variables(cli)


def main() -> None:
    logs.configure(logs.LogFormat.TEXT)  # until the group's options choose
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        LOG.error("aborted")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except NexusError as exc:
        LOG.error("%s", exc)
        sys.exit(1)
    except Exception as exc:
        # A bug, not a user error. Its message may carry data from the cluster or the
        # repository, so only its type is shown unless debugging was asked for.
        if os.environ.get("NEXUS_GITOPS_DEBUG"):
            raise
        LOG.critical(
            "%s (hint: run again with NEXUS_GITOPS_DEBUG=1 for the traceback, and report it)",
            type(exc).__name__,
        )
        sys.exit(70)
