"""Run once by hand (not in CI): the issue's "done when" numbers for the sync loop.

    .venv/bin/python scripts/sync_torture.py [--kills 100] [--writers 8] [--rounds 10]

Kills ``--kills`` runs on a local checkout at random instants (half of them together with their
process group) and counts the next runs that do not converge; then races ``--writers`` writers
(URL clones and two sharing one checkout) for ``--rounds`` rounds on one bare remote and counts
lost changes, unclear messages and ``git fsck --strict`` failures. Real git throughout.
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import git
from tests.git_harness import (
    DROPPED_FILE,
    bare_remote,
    checkout,
    config_file,
    env_for,
    is_ancestor,
    kill,
    run,
    snapshots,
    start,
    sync_command,
    tree_has,
)

GAVE_UP = re.compile(r"^error: gave up after \d+ tries: \S+ kept moving while this run pushed")
COMMITTED = re.compile(r"^committed ([0-9a-f]{12}) on main")


def _fsck_ok(repo: Path) -> bool:
    result = subprocess.run(
        ["git", "fsck", "--strict", "--no-progress"], cwd=repo, capture_output=True, check=False
    )
    return result.returncode == 0


def kills(folder: Path, count: int) -> None:
    remote = bare_remote(folder)
    work = checkout(remote, folder / "work")
    a, b = snapshots(folder)
    config = config_file(folder)
    env = env_for(folder)
    run(sync_command(a, config, work), env)
    rng = random.Random(100)  # noqa: S311 - instants to kill at, not secrets
    wedged = dirty = killed = 0
    for number in range(count):
        source = b if number % 2 == 0 else a
        process = start(sync_command(source, config, work), env)
        time.sleep(rng.uniform(0.02, 0.45))
        killed += process.poll() is None
        kill(process, with_children=number % 2 == 0)
        if git(remote, "rev-parse", "main") != git(work, "rev-parse", "main"):
            time.sleep(1.02 - time.time() % 1.0)
        again = run(sync_command(source, config, work), env)
        converged = (
            again.returncode == 0
            and git(work, "rev-parse", "main") == git(remote, "rev-parse", "main")
            and tree_has(remote, "main", f"nexus/{DROPPED_FILE}") is (source == a)
        )
        wedged += not converged
        dirty += git(work, "status", "--porcelain", "--untracked-files=all") != ""
        if not converged:
            print(f"  kill {number}: {again.stderr.strip()}")
    print(
        f"random kills: {count} runs, {killed} killed mid-run, {wedged} did not converge, "
        f"{dirty} left the checkout dirty, fsck ok: {_fsck_ok(remote) and _fsck_ok(work)}"
    )


def race(folder: Path, writers: int, rounds: int) -> None:
    remote = bare_remote(folder, "race.git")
    shared = checkout(remote, folder / "shared")
    a, b = snapshots(folder)
    config = config_file(folder)
    env = env_for(folder)
    who = [(remote.as_uri(), f"url{i}") for i in range(writers - 2)]
    who += [(str(shared), "local0"), (str(shared), "local1")]
    landed = gave_up = lost = unclear = 0
    started = time.monotonic()
    for number in range(rounds):
        source = a if number % 2 == 0 else b
        runs = [(path, start(sync_command(source, config, repo, path), env)) for repo, path in who]
        for path, process in runs:
            stdout, stderr = process.communicate(timeout=300)
            found = COMMITTED.match(stdout)
            if process.returncode == 0 and found:
                landed += 1
                lost += not is_ancestor(remote, found[1], "main")
                lost += tree_has(remote, "main", f"{path}/{DROPPED_FILE}") is (source == b)
            elif process.returncode == 1 and GAVE_UP.match(stderr):
                gave_up += 1
            else:
                unclear += 1
                print(f"  {path}: exit {process.returncode}: {stderr.strip()}")
    print(
        f"race: {writers} writers x {rounds} rounds in {time.monotonic() - started:.1f}s: "
        f"{landed} landed, {gave_up} gave up (retries exhausted), {lost} lost changes, "
        f"{unclear} unclear messages, fsck ok: {_fsck_ok(remote) and _fsck_ok(shared)}, "
        f"shared checkout clean: {git(shared, 'status', '--porcelain') == ''}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sync-torture-") as scratch:
        folder = Path(scratch)
        (folder / "kills").mkdir()
        (folder / "race").mkdir()
        kills(folder / "kills", args.kills)
        race(folder / "race", args.writers, args.rounds)


if __name__ == "__main__":
    main()
