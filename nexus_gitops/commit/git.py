"""The one place that runs git: a pinned identity, a clean environment, redacted errors.

GitPython is not used: it copies the caller's whole environment into every git call, so a
``GIT_DIR``, ``GIT_INDEX_FILE`` or ``GIT_CONFIG_*`` set by a CI runner would leak in. Here git
sees only the variables listed below, never reads the machine's global or system config, and
never prompts for a password.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
from collections.abc import Mapping, Sequence
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


class Git:
    """Runs git in one work tree. ``token`` is sent as an HTTP header through git's
    environment-based config, so it never appears in argv, a URL, or .git/config."""

    def __init__(self, cwd: Path, identity: Identity, token: str | None = None) -> None:
        self.cwd = cwd
        self._token = token
        self._env = self._environment(identity, token)

    @staticmethod
    def _environment(identity: Identity, token: str | None) -> dict[str, str]:
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
        if token:
            basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
            settings.append(("http.extraHeader", f"Authorization: Basic {basic}"))
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
        env = {**self._env, **(extra_env or {})}
        try:
            result = subprocess.run(
                ["git", *args],
                cwd=self.cwd,
                env=env,
                input=stdin,
                capture_output=True,
                check=False,
                timeout=300,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise GitError(f"git {args[0]} could not run: {type(exc).__name__}") from None
        if check and result.returncode != 0:
            raise GitError(self.describe_failure(args, result))
        return result

    def out(
        self, *args: str, stdin: bytes | None = None, extra_env: Mapping[str, str] | None = None
    ) -> str:
        return self.run(*args, stdin=stdin, extra_env=extra_env).stdout.decode().strip()

    def describe_failure(
        self, args: Sequence[str], result: subprocess.CompletedProcess[bytes]
    ) -> str:
        stderr = result.stderr.decode(errors="replace").strip().splitlines()
        detail = stderr[-1] if stderr else f"exit status {result.returncode}"
        command = " ".join(args[:2])
        return redact(f"git {command} failed: {detail}", [self._token or ""])
