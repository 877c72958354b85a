"""A plan in three forms: a table for people, JSON for machines, markdown for a pull request.

Everything shown here comes from the model (names, hosts and addresses that passed their
grammars). The one free text, a skipped Service's reason, quotes untrusted values through
``shown()``; in markdown it is only ever placed inside a fenced code block.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from nexus_gitops.model import Route, Skip
from nexus_gitops.plan.files import Action
from nexus_gitops.plan.summary import headline, record_line
from nexus_gitops.render.state import route_fields

if TYPE_CHECKING:
    from nexus_gitops.commands import Planned


def _route_ref(route: Route) -> str:
    return f"{route.namespace}/{route.name}"


def _match(route: Route) -> str:
    return route.describe().split(" -> ", 1)[0]


def table(planned: Planned) -> str:
    changes = planned.changes
    lines = [f"{headline(changes)}  ({planned.discovery.source})"]
    for route in changes.added:
        lines.append(f"  + {_route_ref(route)}  {route.describe()}")
    for route in changes.removed:
        lines.append(f"  - {_route_ref(route)}  {route.describe()}")
    for before, after in changes.changed:
        lines.append(f"  ~ {_route_ref(after)}  {before.describe()}  =>  {after.describe()}")
    for takeover in changes.takeovers:
        lines.append(f"  ! takeover {takeover.claim}: {takeover.before} -> {takeover.after}")
    for record in changes.records:
        lines.append(f"  DNS {record_line(record)}")
    if changes.empty:
        lines.append("  no route or DNS change" + ("" if planned.files.empty else " (files only)"))
    lines.extend(_refusal_lines(planned))
    return "\n".join(lines) + "\n"


def _refusal_lines(planned: Planned) -> list[str]:
    word = "allowed by --allow-deletions" if planned.allowed else "sync would refuse"
    return [f"{word}: {refusal.reason}" for refusal in planned.refusals]


def document(planned: Planned) -> dict[str, Any]:
    changes = planned.changes
    return {
        "headline": headline(changes),
        "source": planned.discovery.source,
        "changed": not changes.empty or not planned.files.empty,
        "blocked": planned.blocked,
        "routes": {
            "added": [route_fields(r) for r in changes.added],
            "removed": [route_fields(r) for r in changes.removed],
            "changed": [
                {"before": route_fields(a), "after": route_fields(b)} for a, b in changes.changed
            ],
            "takenOver": [
                {"claim": str(t.claim), "before": t.before, "after": t.after}
                for t in changes.takeovers
            ],
        },
        "dns": [{"name": r.name, "before": r.before, "after": r.after} for r in changes.records],
        "files": {action.value: len(planned.files.paths(action)) for action in Action},
        "skipped": [
            {"service": s.ref, "reason": s.reason, "problem": s.problem} for s in planned.skipped
        ],
        "refusals": [r.reason for r in planned.refusals],
    }


def as_json(planned: Planned) -> str:
    return json.dumps(document(planned), indent=2) + "\n"


DETAILS_AFTER = 20
"""Sections longer than this are collapsed in markdown, so a large change stays reviewable."""


def _section(title: str, header: str, rows: list[str]) -> list[str]:
    if not rows:
        return []
    body = [header, "|" + "---|" * header.count("|", 1), *rows]
    if len(rows) > DETAILS_AFTER:
        return [
            f"<details><summary>{title} ({len(rows)})</summary>",
            "",
            *body,
            "",
            "</details>",
            "",
        ]
    return [f"**{title}**", "", *body, ""]


def markdown(planned: Planned) -> str:
    changes = planned.changes
    out = [f"### {headline(changes)}", "", f"Discovered from `{planned.discovery.source}`.", ""]
    rows = [f"| added | `{_route_ref(r)}` | `{_match(r)}` | `{r.backend}` |" for r in changes.added]
    rows += [
        f"| removed | `{_route_ref(r)}` | `{_match(r)}` | `{r.backend}` |" for r in changes.removed
    ]
    rows += [
        f"| changed | `{_route_ref(b)}` | `{_match(b)}` | `{a.backend}` → `{b.backend}` |"
        for a, b in changes.changed
    ]
    out += _section("Routes", "| change | route | match | backend |", rows)
    out += _section(
        "Taken over by another Service",
        "| claim | from | to |",
        [f"| `{t.claim}` | `{t.before}` | `{t.after}` |" for t in changes.takeovers],
    )
    out += _section(
        "DNS records",
        "| name | before | after |",
        [f"| `{r.name}` | {_cell(r.before)} | {_cell(r.after)} |" for r in changes.records],
    )
    if changes.empty:
        out += [
            "No route or DNS record changes."
            if planned.files.empty
            else "No route or DNS record changes; only files are rewritten.",
            "",
        ]
    if planned.refusals:
        word = "Allowed by `--allow-deletions`" if planned.allowed else "**Sync refuses this plan**"
        out += [f"> {word}:", *(f"> - {r.reason}" for r in planned.refusals), ""]
    problems = [s for s in planned.skipped if s.problem]
    out += _skips("Services skipped with a problem", problems)
    return "\n".join(out)


def _skips(title: str, skips: list[Skip]) -> list[str]:
    """Skipped Services with why, collapsed. Reasons may quote untrusted values, so they stay
    inside a code block."""
    if not skips:
        return []
    return [
        f"<details><summary>{title} ({len(skips)})</summary>",
        "",
        "```text",
        *(f"{s.ref}: {s.reason}" for s in skips),
        "```",
        "",
        "</details>",
        "",
    ]


def _cell(value: str | None) -> str:
    return f"`{value}`" if value else "—"


def review_body(planned: Planned, owner: str) -> str:
    """The bot pull request's description: what merging it does, then the plan."""
    lead = (
        f"nexus-gitops (owner `{owner}`) proposes this routing change. Merging it lets Argo CD "
        "or Flux apply it to the cluster; closing it without merging declines this change, "
        "and it is not proposed again."
    )
    return "\n".join([lead, "", markdown(planned), _skipped_details(planned)]).rstrip() + "\n"


def comment_body(planned: Planned) -> str:
    """The plan posted on a person's pull request: what merging it would do to routing."""
    lead = "#### nexus-gitops: what merging this pull request does to routing and DNS"
    return "\n".join([lead, "", markdown(planned)]).rstrip() + "\n"


def _skipped_details(planned: Planned) -> str:
    """Every Service not routed, with why: a reviewer checks that nothing expected is missing."""
    return "\n".join(_skips("Services not routed", [s for s in planned.skipped if not s.problem]))
