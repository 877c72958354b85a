"""The fake forge is strict: requests that the published API description does not allow are
refused and recorded, so the pull-request tests cannot pass against a client that only the
fake would accept."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from nexus_gitops.commit.forge import ForgeKind
from tests.conftest import git
from tests.fake_forge import FakeForge
from tests.git_harness import bare_remote

TOKEN = "forge-secret-token"
ROOT = {ForgeKind.GITHUB: "/repos/ops/gitops", ForgeKind.GITEA: "/repos/ops/gitops"}
AUTH = {ForgeKind.GITHUB: f"Bearer {TOKEN}", ForgeKind.GITEA: f"token {TOKEN}"}


@pytest.fixture(params=[ForgeKind.GITHUB, ForgeKind.GITEA], ids=lambda k: k.value)
def forge(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FakeForge]:
    remote = bare_remote(tmp_path)
    who = ["-c", "user.name=T", "-c", "user.email=t@example.invalid"]
    topic = git(remote, *who, "commit-tree", "main^{tree}", "-p", "main", "-m", "topic").strip()
    git(remote, "update-ref", "refs/heads/topic", topic)
    with FakeForge(request.param, remote, token=TOKEN) as fake:
        yield fake


def call(forge: FakeForge, method: str, path: str, token: str = TOKEN, **kwargs: Any) -> Any:
    auth = AUTH[forge.kind].replace(TOKEN, token)
    return requests.request(
        method,
        f"{forge.api_url}{ROOT[forge.kind]}{path}",
        headers={"Authorization": auth},
        timeout=10,
        **kwargs,
    )


def open_pull(forge: FakeForge) -> Any:
    return call(
        forge, "POST", "/pulls", json={"title": "t", "head": "topic", "base": "main", "body": "b"}
    )


def test_a_valid_flow_is_served_and_merging_really_merges(forge: FakeForge) -> None:
    assert open_pull(forge).status_code == 201
    listed = call(forge, "GET", "/pulls", params={"state": "all"})
    assert listed.status_code == 200 and listed.json()[0]["number"] == 1
    comment = call(forge, "POST", "/issues/1/comments", json={"body": "plan"})
    assert comment.status_code == 201
    forge.merge(1)
    parents = git(forge.bare, "rev-list", "--parents", "-n", "1", "main").split()
    assert len(parents) == 3  # a real merge commit: itself and two parents
    assert forge.errors == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"title": 5, "head": "topic", "base": "main"}, "title"),
        (
            {"title": "t", "head": "topic", "base": "main", "colour": "red"},
            "not in the description",
        ),
    ],
    ids=["wrong type", "unknown field"],
)
def test_a_body_the_description_does_not_allow_is_refused(
    forge: FakeForge, body: dict[str, Any], expected: str
) -> None:
    answer = call(forge, "POST", "/pulls", json=body)
    assert answer.status_code == 422
    assert len(forge.errors) == 1 and expected in forge.errors[0]
    assert forge.pulls == []


def test_an_unknown_path_or_query_parameter_is_refused(forge: FakeForge) -> None:
    assert call(forge, "GET", "/pulls/1/files").status_code == 404
    assert call(forge, "GET", "/pulls", params={"flavour": "x"}).status_code == 422
    assert call(forge, "GET", "/pulls", params={"state": "merged"}).status_code == 422
    assert len(forge.errors) == 3


def test_a_bad_token_is_refused(forge: FakeForge) -> None:
    assert call(forge, "GET", "/pulls", token="wrong").status_code == 401


def test_a_second_open_pull_request_for_the_same_head_is_refused(forge: FakeForge) -> None:
    assert open_pull(forge).status_code == 201
    assert open_pull(forge).status_code in (409, 422)
    assert len(forge.open_pulls()) == 1


@pytest.fixture
def gitlab(tmp_path: Path) -> Iterator[FakeForge]:
    remote = bare_remote(tmp_path)
    with FakeForge(ForgeKind.GITLAB, remote, token=TOKEN) as fake:
        yield fake


def gitlab_call(forge: FakeForge, method: str, path: str, token: str = TOKEN, **kw: Any) -> Any:
    return requests.request(
        method,
        f"{forge.api_url}/projects/ops%2Fgitops{path}",
        headers={"PRIVATE-TOKEN": token},
        timeout=10,
        **kw,
    )


def test_gitlab_refuses_what_its_description_does_not_allow(gitlab: FakeForge) -> None:
    mr = {"source_branch": "main", "target_branch": "main", "title": "t"}
    assert (
        gitlab_call(gitlab, "POST", "/merge_requests", json={**mr, "draft": True}).status_code
        == 400
    )
    assert (
        gitlab_call(gitlab, "POST", "/merge_requests", json={**mr, "title": 1}).status_code == 400
    )
    assert (
        gitlab_call(gitlab, "GET", "/merge_requests", params={"state": "open"}).status_code == 400
    )
    assert len(gitlab.errors) == 3
    assert gitlab_call(gitlab, "GET", "/merge_requests", token="wrong").status_code == 401
    assert gitlab_call(gitlab, "POST", "/merge_requests", json=mr).status_code == 201
    assert gitlab_call(gitlab, "POST", "/merge_requests", json=mr).status_code == 409
