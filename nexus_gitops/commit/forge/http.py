"""The one HTTP client of the forge layer: JSON over ``requests``, a token header, deadlines,
a retry for the forge's own hiccups, pages followed, and errors in one line without the token.

Why a client of our own: the tool makes about ten calls per forge, and the three forges would
otherwise mean three libraries (PyGithub, python-gitlab and an unofficial Gitea one) with three
error models, three retry policies and three ways of leaking a token into a traceback.
``requests`` is already installed with the Kubernetes client.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nexus_gitops.errors import ForgeError

if TYPE_CHECKING:
    import requests

_LOG = logging.getLogger(__name__)

TIMEOUT = (10.0, 30.0)
"""Seconds to connect and to wait for an answer: an unattended run must not hang on a forge."""
RETRIES = 3
"""Tries for a request the forge failed to answer (connection reset, 502, 503, 504, 429)."""
_RETRY_STATUS = frozenset({429, 502, 503, 504})
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')
PAGE_LIMIT = 50
"""Pages followed at most: a bot has one pull request per head, so this is a safety net."""


class ForgeRejected(ForgeError):
    """The forge understood the request and refused it (409 or 422): e.g. an open pull request
    for the same head and base exists already, made by a racing run. ``said`` is the forge's
    own reason, which the client reads to tell such cases apart."""

    def __init__(self, message: str, said: str) -> None:
        super().__init__(message)
        self.said = said


class ForgeNotFound(ForgeError):
    """The forge answered 404: no such repository, pull request, comment or branch (or the
    token may not see it)."""


class _HeadersOnly:
    """Authentication is the header set on the session; nothing else is added."""

    def __call__(self, request: Any) -> Any:
        return request


@dataclass(frozen=True)
class Response:
    status: int
    data: Any
    """The decoded JSON body (None when there is none)."""
    next_url: str | None


class Http:
    """JSON requests to one forge's API, authenticated by one header.

    ``auth`` is the header that carries the token (``Authorization: Bearer ...`` or GitLab's
    ``PRIVATE-TOKEN``); it is sent to ``api_url`` only, never written anywhere, and every error
    message is scrubbed of it. ``describe`` turns a forge's error body into words.
    """

    def __init__(
        self,
        api_url: str,
        auth: Mapping[str, str],
        token: str,
        describe: Callable[[Any], str],
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import requests  # only runs that talk to a forge pay for it

        self.api_url = api_url.rstrip("/")
        self._token = token
        self._describe = describe
        self._sleep = sleep
        self._session = requests.Session()
        self._session.trust_env = True  # proxies and CA bundle from the environment, as git
        # An auth object of our own, so requests never reads ~/.netrc and replaces the token
        # header with whatever credentials that file holds for the host.
        self._session.auth = _HeadersOnly()
        self._session.headers.update(
            {
                "Accept": "application/json",
                "User-Agent": "nexus-gitops",
                **auth,
            }
        )

    def close(self) -> None:
        self._session.close()

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
        url: str | None = None,
        what: str,
    ) -> Response:
        """One call; ``what`` names it in errors (``list pull requests of ops/gitops``)."""
        import requests

        target = url or f"{self.api_url}{path}"
        if not target.startswith(self.api_url + "/"):
            # A Link header naming another host would receive the token.
            raise ForgeError(f"{what}: the forge sent a page link outside {self.api_url}")
        for attempt in range(1, RETRIES + 1):
            try:
                answer = self._session.request(
                    method,
                    target,
                    params=None if url else params,
                    json=json,
                    timeout=TIMEOUT,
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                if attempt == RETRIES:
                    raise ForgeError(
                        self._scrub(
                            f"{what}: {self.api_url} did not answer ({type(exc).__name__})"
                        ),
                        hint="check forge.api_url and the network path to the forge",
                    ) from None
                self._pause(attempt, what, type(exc).__name__)
                continue
            if answer.status_code in _RETRY_STATUS and attempt < RETRIES:
                self._pause(attempt, what, str(answer.status_code))
                continue
            return self._result(answer, what)
        raise AssertionError("unreachable")  # pragma: no cover

    def _pause(self, attempt: int, what: str, why: str) -> None:
        pause = random.uniform(0.5, 1.0) * 2**attempt  # noqa: S311
        _LOG.debug("%s: %s, trying again in %.1fs", what, why, pause)
        self._sleep(pause)

    def _result(self, answer: requests.Response, what: str) -> Response:
        data: Any = None
        if answer.content:
            try:
                data = answer.json()
            except ValueError:
                data = None
        if answer.status_code < 300:
            match = _NEXT.search(answer.headers.get("Link", ""))
            next_url = match.group(1) if match else None
            if next_url is None and answer.headers.get("X-Next-Page"):
                next_url = _with_page(answer.url, answer.headers["X-Next-Page"])
            return Response(answer.status_code, data, next_url)
        said = self._scrub(self._describe(data)) if data is not None else ""
        message = f"{what}: the forge answered {answer.status_code}" + (
            f" ({said})" if said else ""
        )
        if answer.status_code in (401, 403):
            raise ForgeError(
                message,
                hint="check the token in $NEXUS_GITOPS_FORGE_TOKEN (or $NEXUS_GITOPS_GIT_TOKEN): "
                "it must be valid and may write pull requests and comments",
            )
        if answer.status_code == 404:
            raise ForgeNotFound(
                message, hint="check forge.repository and that the token can see the repository"
            )
        if answer.status_code in (409, 422):
            raise ForgeRejected(message, said)
        raise ForgeError(message)

    def pages(self, path: str, params: Mapping[str, str | int], *, what: str) -> Iterator[Any]:
        """Every item of a paginated list, following ``Link: rel="next"`` (GitHub, Gitea) or
        ``X-Next-Page`` (GitLab)."""
        answer = self.request("GET", path, params=params, what=what)
        for _ in range(PAGE_LIMIT):
            if not isinstance(answer.data, list):
                raise ForgeError(f"{what}: the forge did not answer with a list")
            yield from answer.data
            if answer.next_url is None:
                return
            answer = self.request("GET", path, url=answer.next_url, what=what)
        raise ForgeError(f"{what}: more than {PAGE_LIMIT} pages")


def _with_page(url: str, page: str) -> str:
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "page"] + [("page", page)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def message_field(data: Any) -> str:
    """The usual error body: ``{"message": "...", "errors": [...]}`` (GitHub, Gitea) or
    ``{"message": ...}`` / ``{"error": ...}`` (GitLab), as one short line."""
    if not isinstance(data, dict):
        return ""
    parts: list[str] = []
    for key in ("message", "error"):
        value = data.get(key)
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, list):
            parts.extend(str(v) for v in value)
        elif isinstance(value, dict):
            parts.extend(f"{k} {v}" for k, v in value.items())
    for error in data.get("errors") or []:
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            parts.append(error["message"])
        elif isinstance(error, str):
            parts.append(error)
    line = "; ".join(part.strip() for part in parts if part.strip())
    line = " ".join(line.split())
    return line[:300]
