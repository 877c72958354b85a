"""Real git for the sync-loop tests: bare remotes, CLI runs as processes, a ``git`` wrapper that
kills its caller at a chosen step, an HTTP remote (``git http-backend``) with a token and hooks,
and a sampler of every process's argv.

Nothing here imitates git: the wrapper runs the real git and only decides when to SIGKILL the
nexus-gitops process that called it.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import yaml

from tests.conftest import EXAMPLE_CONFIG, EXAMPLE_SNAPSHOT, SOURCE_DATE_EPOCH, git

REAL_GIT = shutil.which("git") or "/usr/bin/git"
DROPPED = "heat-cfn"
"""The Service variant B lacks: its route file is the visible difference between A and B."""
DROPPED_FILE = "ingress/openstack/nexus-cloudformation-path.yaml"


def snapshots(folder: Path) -> tuple[Path, Path]:
    """Two snapshots whose renders differ in one route (A has heat-cfn, B does not)."""
    items = yaml.safe_load(EXAMPLE_SNAPSHOT.read_text())["items"]
    a, b = folder / "a.json", folder / "b.json"
    a.write_text(json.dumps({"kind": "List", "items": items}))
    kept = [i for i in items if i["metadata"]["name"] != DROPPED]
    b.write_text(json.dumps({"kind": "List", "items": kept}))
    return a, b


def config_file(folder: Path, **git_keys: Any) -> Path:
    """The example config, with extra ``git.*`` keys when given."""
    data = yaml.safe_load(EXAMPLE_CONFIG.read_text())
    if git_keys:
        data.setdefault("git", {}).update(git_keys)
    path = folder / f"config-{len(list(folder.glob('config-*')))}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def bare_remote(folder: Path, name: str = "remote.git") -> Path:
    """A bare remote whose ``main`` has one commit with a README."""
    remote = folder / name
    git(folder, "init", "-q", "--bare", "--initial-branch=main", str(remote))
    seed = folder / f"{name}-seed"
    git(folder, "clone", "-q", str(remote), str(seed))
    git(seed, "checkout", "-q", "-b", "main")
    (seed / "README.md").write_text("cluster config\n")
    git(seed, "add", ".")
    git(seed, "commit", "-q", "-m", "initial")
    git(seed, "push", "-q", "origin", "main")
    shutil.rmtree(seed)
    return remote


def checkout(remote: Path, dest: Path) -> Path:
    git(dest.parent, "clone", "-q", str(remote), str(dest))
    return dest


def env_for(folder: Path, path_dir: Path | None = None, **extra: str) -> dict[str, str]:
    """A minimal environment as CI gives one; ``path_dir`` goes first on PATH (the wrapper)."""
    tmp = folder / "tmp"
    tmp.mkdir(exist_ok=True)
    env = {
        "PATH": f"{path_dir}:{os.environ['PATH']}" if path_dir else os.environ["PATH"],
        "HOME": "/nonexistent",
        "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH,
        "TMPDIR": str(tmp),
        **extra,
    }
    if "PYTHONPATH" in os.environ:  # to run the same tests against another copy of the code
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env


def sync_command(
    source: Path, config: Path, repo: str | Path, path: str = "nexus", command: str = "sync"
) -> list[str]:
    return [
        sys.executable,
        "-m",
        "nexus_gitops",
        command,
        "--source",
        str(source),
        "--config",
        str(config),
        "--repo",
        str(repo),
        "--path",
        path,
    ]


def start(command: Sequence[str], env: dict[str, str]) -> subprocess.Popen[str]:
    """A run in a session of its own, so it can be killed with or without its git children."""
    return subprocess.Popen(
        list(command),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def run(command: Sequence[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(command), env=env, capture_output=True, text=True, check=False, timeout=120
    )


def kill(process: subprocess.Popen[str], *, with_children: bool) -> None:
    try:
        if with_children:
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    except ProcessLookupError:
        pass
    process.communicate(timeout=60)


def killing_git(folder: Path, subcommand: str, when: str) -> Path:
    """A folder with a ``git`` that runs the real one, and SIGKILLs its caller (the nexus-gitops
    process) right ``before`` or ``after`` the first ``git <subcommand>``. The choice is in a
    file, since nexus-gitops passes git only a few environment variables."""
    wrapper = folder / "killing-git"
    wrapper.mkdir(exist_ok=True)
    (wrapper / "target").write_text(f"{subcommand} {when}\n")
    fired = wrapper / "fired"
    fired.unlink(missing_ok=True)
    script = wrapper / "git"
    script.write_text(
        f"""#!/bin/sh
read -r sub when < '{wrapper}/target'
if [ "$1" = "$sub" ] && mkdir '{fired}' 2>/dev/null; then
  if [ "$when" = before ]; then kill -9 "$PPID"; exit 137; fi
  '{REAL_GIT}' "$@"; status=$?
  kill -9 "$PPID"
  exit $status
fi
exec '{REAL_GIT}' "$@"
"""
    )
    script.chmod(0o755)
    return wrapper


def fsck(repo: Path) -> None:
    """``git fsck --strict`` must be clean (it raises otherwise)."""
    git(repo, "fsck", "--strict", "--no-progress")


def tree_has(repo: Path, rev: str, path: str) -> bool:
    result = subprocess.run(
        ["git", "cat-file", "-e", f"{rev}:{path}"], cwd=repo, capture_output=True, check=False
    )
    return result.returncode == 0


def is_ancestor(repo: Path, older: str, newer: str) -> bool:
    result = subprocess.run(
        ["git", "merge-base", "--is-ancestor", older, newer], cwd=repo, check=False
    )
    return result.returncode == 0


class ArgvSampler:
    """Reads every process's argv (``/proc/*/cmdline``) in a loop while a run goes on."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    try:
                        argv = (entry / "cmdline").read_bytes()
                    except OSError:
                        continue
                    if argv:
                        self.seen.add(argv.replace(b"\0", b" ").decode(errors="replace"))

    def __enter__(self) -> ArgvSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


class _GitHttp(BaseHTTPRequestHandler):
    """``git http-backend`` as CGI behind HTTP basic auth: a smart HTTP remote like a forge's."""

    root: ClassVar[Path]
    accepted: ClassVar[set[str]]
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        header = self.headers.get("Authorization", "")
        user = None
        if header.startswith("Basic "):
            decoded = base64.b64decode(header.removeprefix("Basic ")).decode(errors="replace")
            if decoded in self.accepted:
                user = decoded.split(":", 1)[0]
        if user is None:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        env = {
            "PATH": os.environ["PATH"],
            "GIT_PROJECT_ROOT": str(self.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(self.root),
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_USER": user,
            "REMOTE_ADDR": "127.0.0.1",
            "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
        }
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        result = subprocess.run(
            [REAL_GIT, "http-backend"], input=body, env=env, capture_output=True, check=False
        )
        head, _, payload = result.stdout.partition(b"\r\n\r\n")
        status = 200
        headers = []
        for line in head.decode().split("\r\n"):
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def http_remote(root: Path, accepted: Sequence[str]) -> Iterator[str]:
    """Serve the bare repositories under ``root`` over smart HTTP; ``accepted`` are the
    ``user:password`` pairs let in. Yields the base URL."""
    handler = type("Handler", (_GitHttp,), {"root": root, "accepted": set(accepted)})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def hook(remote: Path, name: str, script: str) -> None:
    path = remote / "hooks" / name
    path.write_text(script)
    path.chmod(0o755)
