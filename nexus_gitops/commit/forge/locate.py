"""Which forge holds the repository, where its API is and what the repository is called there:
from the config when it says, else from the Git remote's URL.

Only the public services have a default API address; a self-hosted forge's API path depends on
how it is installed (``/api/v3`` behind GitHub Enterprise, a sub-path for GitLab), so it must
be configured rather than guessed.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from nexus_gitops.commit.forge import Forge, ForgeKind, ForgeRepository
from nexus_gitops.errors import ForgeError

PUBLIC_APIS = {
    ("github.com", ForgeKind.GITHUB): "https://api.github.com",
    ("gitlab.com", ForgeKind.GITLAB): "https://gitlab.com/api/v4",
    ("codeberg.org", ForgeKind.GITEA): "https://codeberg.org/api/v1",
}
_SCP = re.compile(r"^[^/\s:@]+@(?P<host>[^/\s:]+):(?P<path>[^\s]+)$")
_PATH = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+")
_EXAMPLE_API = {
    ForgeKind.GITHUB: "https://HOST/api/v3",
    ForgeKind.GITLAB: "https://HOST/api/v4",
    ForgeKind.GITEA: "https://HOST/api/v1",
}


def remote_parts(url: str) -> tuple[str, str] | None:
    """Host and repository path of an HTTPS, SSH or ``user@host:path`` remote; None for a local
    path or ``file://`` URL, which no forge serves."""
    scp = _SCP.match(url)
    if scp:
        host, path = scp["host"], scp["path"]
    else:
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http", "ssh", "git") or not parts.hostname:
            return None
        host, path = parts.hostname, parts.path
    path = path.strip("/").removesuffix(".git")
    return (host.lower(), path) if _PATH.fullmatch(path) else None


def _kind_of(host: str) -> ForgeKind | None:
    """The public services by name, and self-hosted ones by the usual first label of their
    host (``gitlab.example.com``, ``gitea.example.com``, ``forgejo.example.com``)."""
    first = host.split(".")[0]
    if host == "github.com" or host.endswith(".ghe.com"):
        return ForgeKind.GITHUB
    if host == "gitlab.com" or first == "gitlab":
        return ForgeKind.GITLAB
    if host == "codeberg.org" or first in ("gitea", "forgejo"):
        return ForgeKind.GITEA
    return None


def locate(
    kind: ForgeKind | None,
    api_url: str | None,
    repository: str | None,
    remote_url: str | None,
) -> ForgeRepository:
    """The forge's API and the repository's name on it; raises :class:`ForgeError` naming the
    config key to set when the remote URL does not tell."""
    parts = remote_parts(remote_url) if remote_url else None
    host = parts[0] if parts else None
    if kind is None:
        kind = _kind_of(host) if host else None
        if kind is None:
            raise ForgeError(
                "forge.kind is not set and cannot be told from the remote"
                + (f" host {host}" if host else " (not a forge URL)"),
                hint="set forge.kind to github, gitlab or gitea",
            )
    if repository is None:
        if parts is None:
            raise ForgeError(
                "forge.repository is not set and the remote is not a forge URL",
                hint="set forge.repository to owner/name (a GitLab project path for GitLab)",
            )
        repository = parts[1]
    if kind is not ForgeKind.GITLAB and repository.count("/") != 1:
        raise ForgeError(f"forge.repository {repository} must be owner/name on {kind.value}")
    if api_url is None:
        api_url = PUBLIC_APIS.get((host or "", kind))
        if api_url is None:
            raise ForgeError(
                f"forge.api_url is required for a self-hosted {kind.value}"
                + (f" ({host})" if host else ""),
                hint=f"set forge.api_url, e.g. {_EXAMPLE_API[kind]}",
            )
    return ForgeRepository(kind, api_url.rstrip("/"), repository)


def open_forge(repository: ForgeRepository, token: str | None) -> Forge:
    """The client for the forge; a token is required, every call writes or reads as it."""
    if not token:
        raise ForgeError(
            f"no token for {repository.kind.value}",
            hint="put a token that may open pull requests and comment in "
            "$NEXUS_GITOPS_FORGE_TOKEN (or $NEXUS_GITOPS_GIT_TOKEN)",
        )
    if repository.kind is ForgeKind.GITHUB:
        from nexus_gitops.commit.forge.github import GitHub

        return GitHub(repository, token)
    if repository.kind is ForgeKind.GITLAB:
        from nexus_gitops.commit.forge.gitlab import GitLab

        return GitLab(repository, token)
    from nexus_gitops.commit.forge.gitea import Gitea

    return Gitea(repository, token)
