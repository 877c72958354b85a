"""How long discovery, planning, rendering and a Git sync take as the number of APIs grows.

Run: .venv/bin/python benchmarks/bench_sync.py [N ...]

Each size builds a snapshot of N API Services (plus as many non-API Services, which discovery
must read and skip), then measures, as the median of several runs:
  plan    read the snapshot, recognise APIs, plan routes and zones
  render  plan, assign serials and render every file
  sync1   the first sync into a fresh Git repository (one commit)
  sync2   a second sync with nothing changed (no commit)
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from nexus_gitops import commands
from nexus_gitops.commit.git import Identity
from nexus_gitops.config import parse_config
from nexus_gitops.discover.snapshot import SnapshotSource

TODAY = dt.date(2026, 11, 22)
OPTIONS = commands.RunOptions(TODAY, "nexus")
IDENTITY = Identity("bench", "bench@example.com")


def snapshot_text(count: int) -> str:
    items = [
        {
            "kind": "Service",
            "metadata": {"name": "lb", "namespace": "openstack"},
            "spec": {
                "type": "LoadBalancer",
                "clusterIP": "10.0.0.1",
                "ports": [{"port": 80, "protocol": "TCP"}],
            },
            "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.10"}]}},
        }
    ]
    for index in range(count):
        items.append(
            {
                "kind": "Service",
                "metadata": {
                    "name": f"api{index}-api",
                    "namespace": "openstack",
                    "annotations": {
                        "nexus-gitops.io/expose": "true",
                        "nexus-gitops.io/service-type": f"custom{index}",
                        "nexus-gitops.io/hosts": f"api{index}.cloud.example.com",
                    },
                },
                "spec": {
                    "clusterIP": "10.0.1.1",
                    "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
                },
            }
        )
        items.append(
            {
                "kind": "Service",
                "metadata": {"name": f"cache{index}", "namespace": "openstack"},
                "spec": {
                    "clusterIP": "10.0.2.1",
                    "ports": [{"name": "memcache", "port": 11211, "protocol": "TCP"}],
                },
            }
        )
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items})


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


def main() -> None:
    sizes = [int(arg) for arg in sys.argv[1:]] or [15, 100, 1000]
    print(f"{'APIs':>6} {'Services':>9} {'plan':>9} {'render':>9} {'sync1':>9} {'sync2':>9}")
    for count in sizes:
        r = run(count, repeat=3 if count >= 1000 else 5)
        print(
            f"{count:>6} {2 * count + 1:>9} "
            + " ".join(f"{r[key] * 1000:>7.0f}ms" for key in ("plan", "render", "sync1", "sync2"))
        )


if __name__ == "__main__":
    main()
