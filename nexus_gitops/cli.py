"""Command line: parses arguments, calls :mod:`nexus_gitops.commands`, prints the result.

This is the only module that prints or exits. A :class:`~nexus_gitops.errors.NexusError`
becomes one line on stderr and exit status 1; usage errors exit 2 (click's convention).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from nexus_gitops import __version__, commands
from nexus_gitops.commit.git import TOKEN_ENV
from nexus_gitops.config import Config, load_config
from nexus_gitops.discover import Source, open_source
from nexus_gitops.errors import NexusError
from nexus_gitops.model import Skip
from nexus_gitops.render.yaml import dump
from nexus_gitops.validate.names import shown

F = TypeVar("F", bound=Callable[..., Any])


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


def _report(skipped: tuple[Skip, ...]) -> None:
    for skip in skipped:
        if skip.problem:
            click.echo(f"warning: skipped {skip.ref}: {skip.reason}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="nexus-gitops")
def cli() -> None:
    """Discover OpenStack APIs on Kubernetes; commit their Ingress and DNS config to Git."""


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
    """Show the OpenStack APIs found, their routes, and every Service skipped with the reason."""
    config, src = _load(source, config_path, kubeconfig, context, request_timeout)
    found = commands.plan_state(config, src)
    _report(found.desired.skipped)
    if output == "table":
        click.echo(f"ingress address: {found.address.ip} ({found.address.origin})")
        rows = [("ROUTE", "SERVICE TYPE", "BACKEND", "MATCH")]
        rows += [
            (r.name, r.service_type, r.backend, f"/{r.prefix}" if r.prefix else ",".join(r.hosts))
            for r in found.desired.routes
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        for row in rows:
            click.echo(
                "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3]
            )
        for skip in found.desired.skipped:
            click.echo(f"skipped {skip.ref}: {skip.reason}")
        for name in found.desired.unpublished:
            click.echo(f"not in any managed zone, no DNS record: {name}")
        return
    document = {
        "source": found.source,
        "address": {"ip": found.address.ip, "origin": found.address.origin},
        "routes": [
            {
                "name": r.name,
                "kind": r.kind.value,
                "namespace": r.namespace,
                "service": r.service,
                "port": r.port,
                "serviceType": r.service_type,
                **({"prefix": r.prefix} if r.prefix else {"hosts": list(r.hosts)}),
            }
            for r in found.desired.routes
        ],
        "skipped": [
            {"service": s.ref, "reason": s.reason, "problem": s.problem}
            for s in found.desired.skipped
        ],
        "unpublished": list(found.desired.unpublished),
    }
    if output == "json":
        click.echo(json.dumps(document, indent=2))
    else:
        click.echo(dump(document).decode().split("\n", 1)[1], nl=False)


@cli.command()
@common_options
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
    out: Path,
) -> None:
    """Write the Ingress and DNS files to a directory, without Git."""
    config, src = _load(source, config_path, kubeconfig, context, request_timeout)
    outcome = commands.render(config, src, out, today())
    _report(outcome.discovery.desired.skipped)
    click.echo(
        f"{out}: {len(outcome.plan.changes)} file(s) changed "
        f"({len(outcome.discovery.desired.routes)} routes)"
    )


@cli.command()
@common_options
@click.option(
    "--repo",
    required=True,
    metavar="PATH_OR_URL",
    help="A local Git checkout, or a URL to clone into a temporary directory.",
)
@click.option(
    "--path",
    "subdir",
    default="nexus",
    show_default=True,
    help="Folder inside the repository that nexus-gitops owns.",
)
def sync(
    source: str,
    config_path: Path | None,
    kubeconfig: Path | None,
    context: str | None,
    request_timeout: float,
    repo: str,
    subdir: str,
) -> None:
    """Commit the Ingress and DNS files to a Git repository, and push when it has a remote.

    No commit is made when nothing changed. For HTTPS remotes, a token in
    $NEXUS_GITOPS_GIT_TOKEN is sent as an HTTP header and never written to disk or logs.
    """
    config, src = _load(source, config_path, kubeconfig, context, request_timeout)
    identity = commands.identity_from(config, _environment())
    outcome = commands.sync(
        config, src, repo, subdir, today(), identity, token=os.environ.get(TOKEN_ENV) or None
    )
    _report(outcome.discovery.desired.skipped)
    if outcome.commit is None:
        click.echo(f"up to date: {len(outcome.discovery.desired.routes)} routes, nothing to commit")
        return
    where = f", pushed to {outcome.commit.pushed_to}" if outcome.commit.pushed_to else ""
    click.echo(
        f"committed {outcome.commit.commit[:12]} on {outcome.commit.branch}{where}: "
        f"{outcome.summary.counts} routes"
    )


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except NexusError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except Exception as exc:
        # A bug, not a user error. Its message may carry data from the cluster or the
        # repository, so only its type is shown unless debugging was asked for.
        if os.environ.get("NEXUS_GITOPS_DEBUG"):
            raise
        click.echo(
            f"internal error: {type(exc).__name__} (hint: run again with "
            "NEXUS_GITOPS_DEBUG=1 for the traceback, and report it)",
            err=True,
        )
        sys.exit(70)
