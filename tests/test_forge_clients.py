"""The forge clients' HTTP layer keeps the token where it belongs: in its one header, sent to
the configured API only, never replaced by ~/.netrc and never in an error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from nexus_gitops.commit.forge import ForgeKind, ForgeRepository
from nexus_gitops.commit.forge.github import GitHub
from nexus_gitops.commit.forge.http import Http, message_field
from nexus_gitops.errors import ForgeError
from tests.fake_forge import FakeForge
from tests.git_harness import bare_remote

TOKEN = "forge-secret-token"


@pytest.fixture
def forge(tmp_path: Path) -> Iterator[FakeForge]:
    with FakeForge(ForgeKind.GITHUB, bare_remote(tmp_path), token=TOKEN) as fake:
        yield fake


def test_a_netrc_entry_for_the_host_does_not_replace_the_token(
    forge: FakeForge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password other-credentials\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    client = GitHub(ForgeRepository(ForgeKind.GITHUB, forge.api_url, "ops/gitops"), TOKEN)
    assert client.pull_requests("nexus-gitops/nexus", "main") == []
    assert forge.requests[-1].headers["Authorization"] == f"Bearer {TOKEN}"


def test_a_refused_token_is_named_but_never_shown(forge: FakeForge) -> None:
    client = GitHub(
        ForgeRepository(ForgeKind.GITHUB, forge.api_url, "ops/gitops"), "wrong-" + TOKEN
    )
    with pytest.raises(ForgeError) as caught:
        client.pull_requests("nexus-gitops/nexus", "main")
    assert "answered 401" in str(caught.value) and TOKEN not in str(caught.value)


def test_a_page_link_to_another_host_is_not_followed(forge: FakeForge) -> None:
    http = Http(forge.api_url, {"Authorization": f"Bearer {TOKEN}"}, TOKEN, message_field)
    with pytest.raises(ForgeError, match="page link outside"):
        http.request("GET", "", url="https://elsewhere.invalid/steal", what="list")
    assert forge.requests == []
