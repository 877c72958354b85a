"""The one place that runs git: a pinned identity, a clean environment, redacted errors.

GitPython is not used: it copies the caller's whole environment into every git call, so a
``GIT_DIR``, ``GIT_INDEX_FILE`` or ``GIT_CONFIG_*`` set by a CI runner would leak in. Here git
sees only the variables listed below, never reads the machine's global or system config, and
never prompts for a password.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import subprocess
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from nexus_gitops.errors import GitError

TOKEN_ENV = "NEXUS_GITOPS_GIT_TOKEN"  # noqa: S105 - the variable's name, not a secret
PASSED_THROUGH = (
    "PATH",
    "SSH_AUTH_SOCK",
    "GIT_SSH_COMMAND",
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "NO_PROXY",
    "https_proxy",
    "http_proxy",
    "no_proxy",
    "TMPDIR",
)
_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]+@")


def redact(text: str, secrets: Sequence[str] = ()) -> str:
    """Remove credentials from URLs (``https://user:token@host`` -> ``https://***@host``) and
    any known secret value."""
    text = _CREDENTIALS.sub("***@", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


@dataclass(frozen=True)
class Identity:
    name: str
    email: str


@dataclass(frozen=True)
class Credentials:
    """What git sends as HTTP basic auth: a token (``x-access-token``) or a URL's user and
    password. Kept out of every URL, argv and file; ``given_as`` names where it came from, so an
    authentication failure can say which credential was refused."""

    user: str
    password: str
    given_as: str

    def header(self) -> str:
        basic = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return f"Authorization: Basic {basic}"


def token_credentials(token: str | None) -> Credentials | None:
    return Credentials("x-access-token", token, f"${TOKEN_ENV}") if token else None


_URL_USERINFO = re.compile(r"^(?P<scheme>https?://)(?P<userinfo>[^/@\s]*)@(?P<rest>.*)$", re.I)


def split_credentials(url: str) -> tuple[str, Credentials | None]:
    """``https://user:pass@host/r.git`` -> (``https://host/r.git``, user and password): git only
    ever sees the bare URL, so the password reaches neither argv (``git clone``, the
    ``git-remote-https`` helper) nor the clone's ``.git/config``."""
    match = _URL_USERINFO.match(url)
    if not match:
        return url, None
    user, _, password = match["userinfo"].partition(":")
    bare = f"{match['scheme']}{match['rest']}"
    if not password:
        return bare, None if not user else Credentials(urllib.parse.unquote(user), "", "the URL")
    return bare, Credentials(
        urllib.parse.unquote(user), urllib.parse.unquote(password), "the URL's user and password"
    )


class Git:
    """Runs git in one work tree. Credentials are sent as an HTTP header through git's
    environment-based config, so they never appear in argv, a URL, or .git/config.

    ``keep_fds`` are inherited by every git child: a lock held on them (:mod:`.lock`) stays
    held while any git started by this run is still working, even when this process is killed.
    Each git runs in a session of its own, so a signal to this run's process group (a cancelled
    CI job, Ctrl-C) never stops git half-way through updating a ref or the index and leaves
    git's own lock files behind: the git command finishes, and the next run waits for it.
    """

    def __init__(
        self,
        cwd: Path,
        identity: Identity,
        credentials: Credentials | None = None,
        keep_fds: Sequence[int] = (),
    ) -> None:
        self.cwd = cwd
        self.identity = identity
        self.credentials = credentials
        self.keep_fds = tuple(keep_fds)
        self._env = self._environment(identity, credentials)

    def at(self, cwd: Path) -> Git:
        """The same identity, credentials and inherited locks in another directory."""
        return Git(cwd, self.identity, self.credentials, self.keep_fds)

    def keeping(self, *fds: int) -> Git:
        return Git(self.cwd, self.identity, self.credentials, (*self.keep_fds, *fds))

    @property
    def secrets(self) -> list[str]:
        if self.credentials is None:
            return []
        header = self.credentials.header().removeprefix("Authorization: Basic ")
        # A token given as the URL's user name (``https://<token>@host``) is the secret then.
        user = [] if self.credentials.password else [self.credentials.user]
        return [self.credentials.password, header, *user]

    @staticmethod
    def _environment(identity: Identity, credentials: Credentials | None) -> dict[str, str]:
        env = {key: os.environ[key] for key in PASSED_THROUGH if key in os.environ}
        env.update(
            {
                "HOME": os.environ.get("HOME", "/nonexistent"),
                "LC_ALL": "C",
                "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_CONFIG_GLOBAL": os.devnull,
                "GIT_TERMINAL_PROMPT": "0",
                "GIT_AUTHOR_NAME": identity.name,
                "GIT_AUTHOR_EMAIL": identity.email,
                "GIT_COMMITTER_NAME": identity.name,
                "GIT_COMMITTER_EMAIL": identity.email,
            }
        )
        settings = [("core.hooksPath", os.devnull), ("commit.gpgSign", "false")]
        if credentials:
            settings.append(("http.extraHeader", credentials.header()))
        env["GIT_CONFIG_COUNT"] = str(len(settings))
        for index, (key, value) in enumerate(settings):
            env[f"GIT_CONFIG_KEY_{index}"] = key
            env[f"GIT_CONFIG_VALUE_{index}"] = value
        return env

    def run(
        self,
        *args: str,
        stdin: bytes | None = None,
        extra_env: Mapping[str, str] | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[bytes]:
        process = self._spawn(args, {**self._env, **(extra_env or {})}, piped=stdin is not None)
        try:
            stdout, stderr = process.communicate(stdin, timeout=300)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise GitError(f"git {args[0]} could not run: TimeoutExpired") from None
        except BaseException:
            # Ctrl-C: let git finish (a push or ref update cut short leaves git's locks).
            with contextlib.suppress(BaseException):
                process.communicate(timeout=300)
            raise
        result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
        if check and result.returncode != 0:
            raise GitError(self.describe_failure(args, result))
        return result

    def _spawn(
        self, args: Sequence[str], env: Mapping[str, str], *, piped: bool
    ) -> subprocess.Popen[bytes]:
        """Start git in its own session (a Ctrl-C or a job's SIGTERM to our process group
        never cuts a ref update short), with only the descriptors it is meant to inherit."""
        try:
            return subprocess.Popen(
                ["git", *args],
                cwd=self.cwd,
                env=env,
                stdin=subprocess.PIPE if piped else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=self.keep_fds,
                start_new_session=True,
            )
        except OSError as exc:
            raise GitError(f"git {args[0]} could not run: {type(exc).__name__}") from None

    def stream(self, *args: str, chunks: Iterable[bytes]) -> bytes:
        """Run git feeding ``chunks`` to its stdin as they come (``fast-import``), so a large
        input is never held whole; the output is small and read at the end."""
        process = self._spawn(args, self._env, piped=True)
        assert process.stdin is not None
        try:
            for chunk in chunks:
                process.stdin.write(chunk)
        except BrokenPipeError:
            pass  # git stopped reading: its stderr says why
        finally:
            try:
                stdout, stderr = process.communicate(timeout=300)
            except subprocess.TimeoutExpired:
                process.kill()
                raise GitError(f"git {args[0]} could not run: TimeoutExpired") from None
        result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
        if result.returncode != 0:
            raise GitError(self.describe_failure(args, result))
        return stdout

    def out(
        self, *args: str, stdin: bytes | None = None, extra_env: Mapping[str, str] | None = None
    ) -> str:
        return self.run(*args, stdin=stdin, extra_env=extra_env).stdout.decode().strip()

    def blobs(self, oids: Sequence[str]) -> list[bytes]:
        """The contents of ``oids``, in order, from one ``cat-file --batch``: one process for
        any number of files."""
        if not oids:
            return []
        batch = self.run("cat-file", "--batch", stdin="".join(f"{o}\n" for o in oids).encode())
        contents: list[bytes] = []
        position = 0
        for _ in oids:
            header_end = batch.stdout.index(b"\n", position)
            size = int(batch.stdout[position:header_end].split()[2])
            start = header_end + 1
            contents.append(batch.stdout[start : start + size])
            position = start + size + 1
        return contents

    def describe_failure(
        self, args: Sequence[str], result: subprocess.CompletedProcess[bytes]
    ) -> str:
        stderr = result.stderr.decode(errors="replace").strip().splitlines()
        detail = stderr[-1] if stderr else f"exit status {result.returncode}"
        command = " ".join(args[:2])
        return redact(f"git {command} failed: {detail}", self.secrets)
