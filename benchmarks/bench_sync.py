"""The tool against the floor: what a sync costs beyond writing and committing the same bytes.

Run: .venv/bin/python benchmarks/bench_sync.py [--full] [--phases N ...]

Each case runs ``python -m nexus_gitops sync`` as a subprocess (as operators run it) against a
local checkout, for a first sync, a no-op sync and a sync with one Service changed. The floor is
the same output bytes the tool wrote, copied into a fresh work tree and committed with
``git add -A && git commit`` (for the no-op: ``git add -A`` and a check that nothing is staged),
so the ratio says what the tool adds over Git itself. Peak RSS is each tool process's own
``ru_maxrss`` (read with ``os.wait4``, so one run cannot mask another).

Cases: 1k Services in 100 namespaces (half of them APIs), 1k distinct APIs in one namespace
(``both`` routing style: host and path Ingresses), and with ``--full`` the same at 10k.

``--phases N ...`` prints the older in-process breakdown (plan, render, sync1, sync2).
``--yaml`` times reading a 10k-Service snapshot as JSON, as YAML with the tool's libyaml loader,
and with PyYAML's pure-Python ``SafeLoader`` (what the reader costs without libyaml).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from nexus_gitops import commands
from nexus_gitops.commit.git import Identity
from nexus_gitops.config import parse_config
from nexus_gitops.discover.snapshot import SnapshotSource

TODAY = dt.date(2026, 11, 22)
OPTIONS = commands.RunOptions(TODAY, "nexus")
IDENTITY = Identity("bench", "bench@example.com")
GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


def _lb(namespace: str) -> dict[str, Any]:
    return {
        "kind": "Service",
        "metadata": {"name": "lb", "namespace": namespace},
        "spec": {
            "type": "LoadBalancer",
            "clusterIP": "10.0.0.1",
            "ports": [{"port": 80, "protocol": "TCP"}],
        },
        "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.10"}]}},
    }


def _api(index: int, namespace: str, host_suffix: str = "") -> dict[str, Any]:
    return {
        "kind": "Service",
        "metadata": {
            "name": f"api{index}-api",
            "namespace": namespace,
            "annotations": {
                "nexus-gitops.io/expose": "true",
                "nexus-gitops.io/service-type": f"custom{index}",
                "nexus-gitops.io/hosts": f"api{index}{host_suffix}.cloud.example.com",
            },
        },
        "spec": {
            "clusterIP": "10.0.1.1",
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        },
    }


def _other(index: int, namespace: str) -> dict[str, Any]:
    return {
        "kind": "Service",
        "metadata": {"name": f"cache{index}", "namespace": namespace},
        "spec": {
            "clusterIP": "10.0.2.1",
            "ports": [{"name": "memcache", "port": 11211, "protocol": "TCP"}],
        },
    }


def snapshot_items(apis: int, others: int, namespaces: int, changed: bool = False) -> list[Any]:
    """``apis`` API Services and ``others`` non-API ones spread over ``namespaces`` namespaces.

    ``changed`` moves the first API to another host name: the one-change case.
    """
    items: list[Any] = [_lb("openstack")]
    for index in range(apis):
        suffix = "-moved" if changed and index == 0 else ""
        items.append(_api(index, _namespace(index, namespaces), suffix))
    for index in range(others):
        items.append(_other(index, _namespace(index, namespaces)))
    return items


def _namespace(index: int, namespaces: int) -> str:
    return "openstack" if namespaces == 1 else f"ns{index % namespaces}"


def snapshot_text(count: int) -> str:
    """N APIs plus N non-API Services in one namespace (the ``--phases`` snapshot)."""
    items = snapshot_items(count, count, 1)
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items})


def config_text(namespaces: int) -> str:
    extra = [f"ns{index}" for index in range(namespaces)] if namespaces > 1 else []
    return json.dumps(
        {
            "discovery": {"public_service_name": "lb", "extra_namespaces": extra},
            "routing": {"style": "both", "public_domain": "cloud.example.com"},
            "git": {"author_name": "bench", "author_email": "bench@example.com"},
        }
    )


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, env=GIT_ENV, capture_output=True)


def timed_tool(args: list[str]) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of one tool process, measured on that process alone."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "nexus_gitops", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        error = process.stderr.read().decode() if process.stderr else ""
        raise RuntimeError(f"tool exited {process.returncode}: {error}")
    if process.stderr:
        process.stderr.close()
    return elapsed, usage.ru_maxrss / 1024


def copy_tree(source: Path, target: Path) -> None:
    """Make ``target``'s work tree hold exactly ``source``'s files (not ``.git``)."""
    for entry in target.iterdir():
        if entry.name != ".git":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    for entry in source.iterdir():
        if entry.name == ".git":
            continue
        if entry.is_dir():
            shutil.copytree(entry, target / entry.name)
        else:
            shutil.copy2(entry, target / entry.name)


def floor_commit(repo: Path) -> float:
    start = time.perf_counter()
    git(repo, "add", "-A")
    staged = subprocess.run(["git", "-C", str(repo), "diff", "--cached", "--quiet"], check=False)
    if staged.returncode != 0:
        git(repo, "commit", "-q", "-m", "floor")
    return time.perf_counter() - start


def case(
    name: str, apis: int, others: int, namespaces: int, scratch: Path
) -> list[tuple[str, float, float, float]]:
    """Rows (label, tool s, floor s, tool peak MB) for first, no-op and one-change syncs."""
    base = scratch / name
    base.mkdir()
    config = base / "config.yaml"
    config.write_text(config_text(namespaces))
    snapshots = {}
    for changed in (False, True):
        items = snapshot_items(apis, others, namespaces, changed)
        path = base / f"snapshot-{changed}.json"
        path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
        snapshots[changed] = path
    tool_repo, floor_repo = base / "tool", base / "floor"
    for repo in (tool_repo, floor_repo):
        subprocess.run(["git", "init", "-q", str(repo)], check=True)

    def sync(snapshot: Path) -> tuple[float, float]:
        return timed_tool(
            ["sync", "--source", str(snapshot), "--config", str(config), "--repo", str(tool_repo)]
        )

    rows = []
    for label, snapshot in (
        ("first", snapshots[False]),
        ("no-op", snapshots[False]),
        ("one change", snapshots[True]),
    ):
        seconds, peak = sync(snapshot)
        copy_tree(tool_repo, floor_repo)
        rows.append((f"{name}, {label}", seconds, floor_commit(floor_repo), peak))
    return rows


def table(full: bool) -> None:
    sizes = [1000, 10000] if full else [1000]
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        help_seconds = min(timed_tool(["--help"])[0] for _ in range(3))
        for size in sizes:
            label = f"{size // 1000}k"
            rows += case(f"{label} Services in 100 ns", size // 2, size // 2, 100, Path(scratch))
            rows += case(f"{label} distinct APIs", size, 0, 1, Path(scratch))
    print("| case | tool | floor | ratio | tool peak RSS |")
    print("|---|---:|---:|---:|---:|")
    for label, tool, floor, peak in rows:
        print(f"| {label} | {tool:.2f} s | {floor:.2f} s | {tool / floor:.1f}x | {peak:.0f} MB |")
    print(f"| `nexus-gitops --help` | {help_seconds:.2f} s | | | |")


def median_seconds(action: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def run(count: int, repeat: int = 5) -> dict[str, float]:
    config = parse_config(
        {
            "discovery": {"public_service_name": "lb"},
            "routing": {"style": "both", "public_domain": "cloud.example.com"},
        }
    )
    text = snapshot_text(count)
    results: dict[str, float] = {}
    results["plan"] = median_seconds(
        lambda: commands.plan(
            commands.discover(config, SnapshotSource.parse(text, "bench")), config, {}, OPTIONS
        ),
        repeat,
    )
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch)
        results["render"] = median_seconds(
            lambda: commands.render(
                config, SnapshotSource.parse(text, "bench"), out / "r", OPTIONS
            ),
            repeat,
        )
        firsts, seconds = [], []
        for attempt in range(repeat):
            repo = out / f"repo{attempt}"
            subprocess.run(["git", "init", "-q", str(repo)], check=True)
            source = SnapshotSource.parse(text, "bench")
            start = time.perf_counter()
            first = commands.sync(config, source, str(repo), "nexus", OPTIONS, IDENTITY)
            firsts.append(time.perf_counter() - start)
            start = time.perf_counter()
            second = commands.sync(config, source, str(repo), "nexus", OPTIONS, IDENTITY)
            seconds.append(time.perf_counter() - start)
            assert first.commit is not None and second.commit is None
        results["sync1"] = statistics.median(firsts)
        results["sync2"] = statistics.median(seconds)
    return results


def phases(sizes: list[int]) -> None:
    print(f"{'APIs':>6} {'Services':>9} {'plan':>9} {'render':>9} {'sync1':>9} {'sync2':>9}")
    for count in sizes or [15, 100, 1000]:
        r = run(count, repeat=3 if count >= 1000 else 5)
        print(
            f"{count:>6} {2 * count + 1:>9} "
            + " ".join(f"{r[key] * 1000:>7.0f}ms" for key in ("plan", "render", "sync1", "sync2"))
        )


def yaml_times() -> None:
    items = snapshot_items(5000, 5000, 100)
    document = {"apiVersion": "v1", "kind": "List", "items": items}
    json_text, yaml_text = json.dumps(document, indent=4), yaml.safe_dump(document)
    rows: list[tuple[str, Callable[[], object]]] = [
        ("JSON snapshot", lambda: SnapshotSource.parse(json_text, "bench")),
        ("YAML snapshot (libyaml loader)", lambda: SnapshotSource.parse(yaml_text, "bench")),
        ("YAML, pure-Python SafeLoader", lambda: yaml.load(yaml_text, Loader=yaml.SafeLoader)),
    ]
    print(f"10k Services, YAML {len(yaml_text) // 1024} KiB")
    for label, action in rows:
        print(f"{label}: {median_seconds(action, 3):.2f} s")


def main() -> None:
    args = sys.argv[1:]
    if args and args[0] == "--yaml":
        yaml_times()
    elif args and args[0] == "--phases":
        phases([int(arg) for arg in args[1:]])
    else:
        table("--full" in args)


if __name__ == "__main__":
    main()
