"""Flags from NEXUS_GITOPS_<FLAG> environment variables, -v/-q and --log-format json: what a
CronJob or CI job relies on, through the real CLI and a real Git checkout."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import click
import pytest

from nexus_gitops import cli, logs
from tests.conftest import EXAMPLE_CONFIG, EXAMPLE_SNAPSHOT, run_cli


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run(
        [
            "git",
            "-C",
            str(repo),
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "init",
        ],
        check=True,
    )
    return repo


def head(repo: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_every_long_option_reads_its_environment_variable() -> None:
    for command in [cli.cli, *cli.cli.commands.values()]:
        for param in command.params:
            if not isinstance(param, click.Option) or param.name in ("help", "version"):
                continue
            long = next(o for o in param.opts if o.startswith("--"))
            assert param.envvar == "NEXUS_GITOPS_" + long[2:].upper().replace("-", "_"), long


def test_flags_come_from_the_environment_and_the_command_line_wins(checkout: Path) -> None:
    env = {
        "NEXUS_GITOPS_SOURCE": str(EXAMPLE_SNAPSHOT),
        "NEXUS_GITOPS_CONFIG": str(EXAMPLE_CONFIG),
        "NEXUS_GITOPS_REPO": str(checkout),
        "NEXUS_GITOPS_PATH": "from-env",
    }
    result = run_cli("sync", "--path", "from-flag", env=env)
    assert result.returncode == 0, result.stderr
    assert (checkout / "from-flag" / "state.json").is_file()
    assert not (checkout / "from-env").exists()
    result = run_cli("sync", env=env)
    assert result.returncode == 0, result.stderr
    assert (checkout / "from-env" / "state.json").is_file()


def test_a_bad_value_from_the_environment_names_the_variable() -> None:
    result = run_cli("discover", env={"NEXUS_GITOPS_REQUEST_TIMEOUT": "soon"})
    assert result.returncode == 2
    assert "NEXUS_GITOPS_REQUEST_TIMEOUT" in result.stderr or "--request-timeout" in result.stderr


def test_json_logs_are_one_object_per_line(checkout: Path) -> None:
    args = ("--source", str(EXAMPLE_SNAPSHOT), "--config", str(EXAMPLE_CONFIG))
    result = run_cli("--log-format", "json", "sync", *args, "--repo", str(checkout))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # messages are log lines; stdout is for data asked for
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert [line["level"] for line in lines] == ["info"]
    assert lines[0]["message"].startswith(f"committed {head(checkout)[:12]} on main")
    assert set(lines[0]) == {"time", "level", "logger", "message"}

    failed = run_cli(
        "--log-format", "json", "sync", *args, "--repo", str(checkout / "missing"), "-o", "json"
    )
    assert failed.returncode == 1
    (error,) = [json.loads(line) for line in failed.stderr.splitlines()]
    assert error["level"] == "error" and "missing" in error["message"]


def test_quiet_hides_results_and_keeps_errors(checkout: Path) -> None:
    args = ("--source", str(EXAMPLE_SNAPSHOT), "--config", str(EXAMPLE_CONFIG))
    loud = run_cli("sync", *args, "--repo", str(checkout))
    assert loud.returncode == 0 and loud.stdout.startswith("committed ")
    quiet = run_cli("-q", "sync", *args, "--repo", str(checkout))
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""
    plain = run_cli("sync", *args, "--repo", str(checkout))
    assert plain.stdout.startswith("up to date")
    error = run_cli("-qq", "sync", *args, "--repo", str(checkout / "missing"))
    assert error.returncode == 1 and error.stderr.startswith("error: ")


def test_plan_output_is_data_and_survives_quiet(checkout: Path) -> None:
    args = ("--source", str(EXAMPLE_SNAPSHOT), "--config", str(EXAMPLE_CONFIG))
    result = run_cli("-qq", "plan", *args, "--repo", str(checkout), "-o", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)


def test_verbose_shows_debug_lines_on_stderr() -> None:
    quiet_default = run_cli("discover", "--source", str(EXAMPLE_SNAPSHOT), "--config", "/nope")
    assert quiet_default.returncode == 1
    assert quiet_default.stderr.startswith("error: config: cannot read /nope")
    assert logs.level_for(1, 0) == 10 and logs.level_for(0, 0) == 20
    assert logs.level_for(0, 1) == 30 and logs.level_for(0, 5) == 40
