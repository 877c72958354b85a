"""One error hierarchy for the whole tool.

Library code raises these and never exits or prints; :mod:`nexus_gitops.cli` turns them into one
readable line on stderr and exit status 1. Each error carries an optional hint that says what the
user can do about it, because a CI log line is all an operator sees at 3 a.m.
"""

from __future__ import annotations


class NexusError(Exception):
    """Base class: something the user can fix, described in one line."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} (hint: {self.hint})"
        return self.message


class ConfigError(NexusError):
    """The configuration file is unreadable, has an unknown key or an invalid value."""


class SourceError(NexusError):
    """Services could not be read: a bad snapshot file or a failing Kubernetes API call."""


class AddressError(NexusError):
    """No ingress address could be found for the DNS records."""


class OutputError(NexusError):
    """Rendered output failed its own validation; nothing was written."""


class OwnershipError(NexusError):
    """A file nexus-gitops would write exists and was not created by nexus-gitops."""


class GitError(NexusError):
    """A git operation failed; the repository was left as it was."""


class StateError(NexusError):
    """The committed state file in the managed folder cannot be read."""


class GuardError(NexusError):
    """A safety guard refused the run (mass deletion, no APIs, missing namespace)."""


class ForgeError(NexusError):
    """A forge API call (GitHub, GitLab, Gitea) failed or was refused."""
