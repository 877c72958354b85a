"""GitHub and GitHub Enterprise Server: pull requests and their conversation comments.

The calls follow the REST API description (``github/rest-api-description``): pulls are listed
with ``head=OWNER:BRANCH`` so only the bot's own appear, a merged pull request is one whose
``merged_at`` is set, and comments live on the pull request's issue.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from nexus_gitops.commit.forge import Comment, ForgeRepository, PullRequest, PullState
from nexus_gitops.commit.forge.http import Http, message_field


def _pull(data: Any) -> PullRequest:
    if data.get("merged_at"):
        state = PullState.MERGED
    elif data.get("state") == "open":
        state = PullState.OPEN
    else:
        state = PullState.CLOSED
    return PullRequest(
        number=int(data["number"]),
        url=str(data["html_url"]),
        state=state,
        title=str(data.get("title") or ""),
        body=str(data.get("body") or ""),
        head=str(data["head"]["ref"]),
        base=str(data["base"]["ref"]),
        draft=bool(data.get("draft")),
    )


class GitHub:
    """GitHub's calls; Gitea's API follows GitHub's for labels, reviewers and comments, so
    :class:`~nexus_gitops.commit.forge.gitea.Gitea` changes only what differs."""

    AUTH_SCHEME = "Bearer"
    HEADERS: Mapping[str, str] = {
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
    }
    COMMENT_PAGE: Mapping[str, str | int] = {"per_page": 100}

    def __init__(self, repository: ForgeRepository, token: str) -> None:
        self.repository = repository
        self._http = Http(
            repository.api_url,
            {"Authorization": f"{self.AUTH_SCHEME} {token}", **self.HEADERS},
            token,
            message_field,
        )
        owner, _, name = repository.repository.partition("/")
        self._owner = owner
        self._root = f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}"

    def close(self) -> None:
        self._http.close()

    @staticmethod
    def _parse(data: Any) -> PullRequest:
        return _pull(data)

    def pull_requests(self, head: str, base: str) -> Sequence[PullRequest]:
        items = self._http.pages(
            f"{self._root}/pulls",
            {
                "state": "all",
                "head": f"{self._owner}:{head}",
                "base": base,
                "sort": "created",
                "direction": "desc",
                "per_page": 100,
            },
            what=f"list pull requests of {self.repository.repository}",
        )
        return [self._parse(item) for item in items]

    def create_pull_request(
        self, head: str, base: str, title: str, body: str, *, draft: bool
    ) -> PullRequest:
        answer = self._http.request(
            "POST",
            f"{self._root}/pulls",
            json={"title": title, "head": head, "base": base, "body": body, "draft": draft},
            what=f"open a pull request from {head} into {base}",
        )
        return self._parse(answer.data)

    def update_pull_request(self, number: int, *, title: str, body: str) -> PullRequest:
        answer = self._http.request(
            "PATCH",
            f"{self._root}/pulls/{number}",
            json={"title": title, "body": body},
            what=f"update pull request #{number}",
        )
        return self._parse(answer.data)

    def close_pull_request(self, number: int) -> PullRequest:
        answer = self._http.request(
            "PATCH",
            f"{self._root}/pulls/{number}",
            json={"state": "closed"},
            what=f"close pull request #{number}",
        )
        return self._parse(answer.data)

    def add_labels(self, number: int, labels: Sequence[str]) -> None:
        self._http.request(
            "POST",
            f"{self._root}/issues/{number}/labels",
            json={"labels": list(labels)},
            what=f"label pull request #{number}",
        )

    def request_reviewers(self, number: int, reviewers: Sequence[str]) -> None:
        self._http.request(
            "POST",
            f"{self._root}/pulls/{number}/requested_reviewers",
            json={"reviewers": list(reviewers)},
            what=f"request reviewers of pull request #{number}",
        )

    def comments(self, number: int) -> Sequence[Comment]:
        items = self._http.pages(
            f"{self._root}/issues/{number}/comments",
            self.COMMENT_PAGE,
            what=f"list the comments of pull request #{number}",
        )
        return [Comment(int(item["id"]), str(item.get("body") or "")) for item in items]

    def create_comment(self, number: int, body: str) -> Comment:
        answer = self._http.request(
            "POST",
            f"{self._root}/issues/{number}/comments",
            json={"body": body},
            what=f"comment on pull request #{number}",
        )
        return Comment(int(answer.data["id"]), str(answer.data.get("body") or ""))

    def edit_comment(self, number: int, comment_id: int, body: str) -> Comment:
        answer = self._http.request(
            "PATCH",
            f"{self._root}/issues/comments/{comment_id}",
            json={"body": body},
            what=f"edit comment {comment_id} on pull request #{number}",
        )
        if answer.data is None:  # Gitea may answer 204: edited, nothing returned
            return Comment(comment_id, body)
        return Comment(int(answer.data["id"]), str(answer.data.get("body") or ""))
