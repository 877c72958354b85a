"""A strict fake of the GitHub, Gitea and GitLab REST calls nexus-gitops makes, over a real bare
Git repository.

No forge server installs here, so the tests talk to this one. It is strict where a fake can lie:
every request is matched to an operation of the forge's published API description (the
excerpts in ``tests/data/forges/``, with their sources) and its path, query and JSON body are
checked against the declared parameters and schemas; an unknown operation, parameter or field
is refused (and recorded in :attr:`FakeForge.errors`, which the tests assert is empty). Every
response is built from the response schema (a minimal valid instance, overlaid with the
pull request's state) and validated against it before it is sent. Branches are the bare
repository's: a pull request needs its head branch to exist, and merging really merges.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, unquote, urlsplit

import jsonschema
from referencing import Registry
from referencing.jsonschema import DRAFT4

from nexus_gitops.commit.forge import ForgeKind

DATA = Path(__file__).parent / "data" / "forges"
_PREFIX = {ForgeKind.GITHUB: "/api/v3", ForgeKind.GITEA: "/api/v1", ForgeKind.GITLAB: ""}
_SPEC = {
    ForgeKind.GITHUB: "github.json",
    ForgeKind.GITEA: "gitea.json",
    ForgeKind.GITLAB: "gitlab.json",
}
_DOC = "urn:forge-api"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    headers: dict[str, str]


@dataclass
class FakeComment:
    id: int
    body: str
    author: str


@dataclass
class FakePull:
    number: int
    title: str
    body: str
    head: str
    base: str
    state: str = "open"
    """``open``, ``closed`` (without merging) or ``merged``."""
    draft: bool = False
    labels: list[str] = field(default_factory=list)
    reviewers: list[str] = field(default_factory=list)
    comments: list[FakeComment] = field(default_factory=list)
    head_sha: str = ""


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0's ``nullable: true`` as JSON Schema: the value may also be null."""
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _nullable(value) for key, value in node.items()}
    if node.pop("nullable", False):
        if isinstance(node.get("type"), str) and "enum" not in node:
            node["type"] = [node["type"], "null"]
        else:
            node = {"anyOf": [node, {"type": "null"}]}
    return node


class Spec:
    """One forge's API description excerpt: its operations and a validator for its schemas."""

    def __init__(self, kind: ForgeKind) -> None:
        self.kind = kind
        raw = json.loads((DATA / _SPEC[kind]).read_text())
        if kind is ForgeKind.GITLAB:
            # The notes and users calls, which the published description lacks (see README).
            extra = json.loads((DATA / "gitlab-rest-docs.json").read_text())
            raw["paths"].update(extra["paths"])
            raw["definitions"].update(extra["definitions"])
        self.openapi3 = "openapi" in raw
        self.document = _nullable(raw) if self.openapi3 else raw
        self.base_path = "" if self.openapi3 else str(raw.get("basePath", ""))
        self.registry: Registry[Any] = Registry().with_resource(
            _DOC, DRAFT4.create_resource(self.document)
        )
        self.operations: list[tuple[str, re.Pattern[str], str, dict[str, Any], list[Any]]] = []
        for template, item in self.document["paths"].items():
            shared = item.get("parameters", [])
            pattern = re.compile(
                "^" + re.sub(r"\\\{([a-z_]+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
            )
            for method, operation in item.items():
                if method == "parameters":
                    continue
                params = [self.resolve(p) for p in (*shared, *operation.get("parameters", []))]
                self.operations.append((method.upper(), pattern, template, operation, params))

    def resolve(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def find(self, method: str, path: str) -> tuple[dict[str, Any], list[Any], dict[str, str]]:
        for verb, pattern, _template, operation, params in self.operations:
            found = pattern.match(path)
            if found and verb == method:
                return operation, params, {k: unquote(v) for k, v in found.groupdict().items()}
        raise Refused(404, f"{method} {path}: no such operation in the API description")

    def check(self, schema: Any, value: Any, what: str) -> None:
        validator = jsonschema.Draft4Validator(schema, registry=self.registry)
        errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
        if errors:
            first = errors[0]
            where = "/".join(str(p) for p in first.absolute_path) or "(top)"
            raise Refused(422, f"{what}: {where}: {first.message[:200]}")

    def absolute(self, schema: Any) -> Any:
        """A schema whose ``$ref``s resolve against the whole document."""
        if isinstance(schema, dict) and "$ref" in schema:
            return {"$ref": _DOC + schema["$ref"]}
        return _rebase(schema)

    def request_schema(self, operation: dict[str, Any], params: list[Any]) -> Any | None:
        if self.openapi3:
            content = operation.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            return self.absolute(schema) if schema is not None else None
        for param in params:
            if param.get("in") == "body":
                return self.absolute(param["schema"])
        return None

    def response_schema(self, operation: dict[str, Any], status: int) -> Any | None:
        response = self.resolve(operation.get("responses", {}).get(str(status)))
        if response is None:
            raise Refused(500, f"the description declares no {status} response")
        if self.openapi3:
            schema = response.get("content", {}).get("application/json", {}).get("schema")
        else:
            schema = response.get("schema")
        return schema

    def example(self, schema: Any, depth: int = 0) -> Any:
        """A minimal instance of ``schema``: its required fields, with plain values."""
        schema = self.resolve(schema)
        if depth > 12 or not isinstance(schema, dict):
            return None
        for key in ("allOf",):
            if key in schema:
                merged: dict[str, Any] = {}
                for part in schema[key]:
                    value = self.example(part, depth + 1)
                    if isinstance(value, dict):
                        merged.update(value)
                return merged
        for key in ("anyOf", "oneOf"):
            if key in schema:
                return self.example(schema[key][0], depth + 1)
        if "enum" in schema:
            return schema["enum"][0]
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), None)
        if kind == "object" or "properties" in schema:
            props = schema.get("properties", {})
            return {
                name: self.example(props.get(name, {}), depth + 1)
                for name in schema.get("required", [])
            }
        if kind == "array":
            return []
        if kind == "integer":
            return 1
        if kind == "number":
            return 1.0
        if kind == "boolean":
            return False
        if kind == "string":
            fmt = schema.get("format")
            if fmt == "date-time":
                return "2026-12-03T00:00:00Z"
            if fmt in ("uri", "url"):
                return "https://forge.invalid/x"
            return "x"
        return None


def _rebase(node: Any) -> Any:
    if isinstance(node, list):
        return [_rebase(item) for item in node]
    if isinstance(node, dict):
        return {
            key: (_DOC + value if key == "$ref" and value.startswith("#") else _rebase(value))
            for key, value in node.items()
        }
    return node


def _git(bare: Path, *args: str, check: bool = True) -> str:
    result = subprocess.run(
        ["git", "-C", str(bare), *args], capture_output=True, text=True, check=False
    )
    if check and result.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout.strip()


_QUERY_TYPES: dict[str, Callable[[str], bool]] = {
    "integer": lambda v: re.fullmatch(r"-?[0-9]+", v) is not None,
    "boolean": lambda v: v in ("true", "false"),
    "string": lambda v: True,
    "array": lambda v: True,
}


class FakeForge:
    """``with FakeForge(ForgeKind.GITHUB, bare) as forge:`` serves ``forge.api_url``."""

    def __init__(
        self,
        kind: ForgeKind,
        bare: Path,
        repository: str = "ops/gitops",
        token: str = "forge-secret-token",
    ) -> None:
        self.kind = kind
        self.bare = bare
        self.repository = repository
        self.token = token
        self.spec = Spec(kind)
        self.requests: list[Recorded] = []
        self.errors: list[str] = []
        self.pulls: list[FakePull] = []
        self._ids = itertools.count(1000)
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self.api_url = ""

    # -- test-side controls -------------------------------------------------------------------

    def __enter__(self) -> FakeForge:
        forge = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, payload, headers = forge.handle(
                    self.command, self.path, raw, dict(self.headers.items())
                )
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        port = self._server.server_address[1]
        self.api_url = f"http://127.0.0.1:{port}{_PREFIX[self.kind]}{self.spec.base_path}"
        if self.kind is ForgeKind.GITLAB:
            self.api_url += "/api/v4"  # the description's paths carry the prefix
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    def writes(self) -> list[Recorded]:
        return [r for r in self.requests if r.method not in ("GET", "HEAD")]

    def pull(self, number: int) -> FakePull:
        return next(p for p in self.pulls if p.number == number)

    def open_pulls(self) -> list[FakePull]:
        return [p for p in self.pulls if p.state == "open"]

    def close(self, number: int) -> None:
        """A reviewer's "no": closed without merging."""
        with self._lock:
            self.pull(number).state = "closed"

    def add_comment(self, number: int, body: str, author: str = "someone") -> FakeComment:
        with self._lock:
            comment = FakeComment(next(self._ids), body, author)
            self.pull(number).comments.append(comment)
            return comment

    def merge(self, number: int) -> None:
        """Merge the head into the base in the bare repository, with a real merge commit."""
        with self._lock:
            pull = self.pull(number)
            base = _git(self.bare, "rev-parse", f"refs/heads/{pull.base}")
            head = _git(self.bare, "rev-parse", f"refs/heads/{pull.head}")
            tree = _git(self.bare, "merge-tree", "--write-tree", base, head).splitlines()[0]
            env_args = ["-c", "user.name=Reviewer", "-c", "user.email=reviewer@example.invalid"]
            merged = _git(
                self.bare,
                *env_args,
                "commit-tree",
                tree,
                "-p",
                base,
                "-p",
                head,
                "-m",
                f"Merge pull request #{number}",
            )
            _git(self.bare, "update-ref", f"refs/heads/{pull.base}", merged, base)
            pull.state = "merged"

    # -- serving --------------------------------------------------------------------------------

    def handle(
        self, method: str, target: str, raw: bytes, headers: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        parts = urlsplit(target)
        query = parse_qs(parts.query, keep_blank_values=True)
        body: Any = None
        with self._lock:
            try:
                if raw:
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        raise Refused(400, "the body is not JSON") from None
                self.requests.append(Recorded(method, parts.path, query, body, headers))
                self._authenticate(headers)
                prefix = _PREFIX[self.kind] + self.spec.base_path
                if not parts.path.startswith(prefix):
                    raise Refused(404, f"{parts.path}: outside the API")
                operation, params, path_params = self.spec.find(
                    method, parts.path[len(prefix) :] if prefix else parts.path
                )
                self._check_parameters(params, path_params, query, method, parts.path)
                schema = self.spec.request_schema(operation, params)
                if body is not None:
                    if schema is None:
                        raise Refused(422, f"{method} {parts.path}: takes no body")
                    self.spec.check(schema, body, f"{method} {parts.path} body")
                    self._check_fields(schema, body, f"{method} {parts.path} body")
                status, payload, extra = self._dispatch(method, operation, path_params, query, body)
                schema = self.spec.response_schema(operation, status)
                if schema is not None and payload is not None:
                    try:
                        self.spec.check(self.spec.absolute(schema), payload, "response")
                    except Refused as exc:
                        self.errors.append(f"the fake's own {method} {parts.path} {exc.message}")
                return status, payload, extra
            except Refused as exc:
                if exc.status not in (401, 409) and not exc.message.startswith("expected:"):
                    self.errors.append(exc.message)
                message = exc.message.removeprefix("expected:")
                if self.kind is ForgeKind.GITLAB:
                    status = 400 if exc.status == 422 else exc.status
                    return status, {"message": message}, {}
                return exc.status, {"message": message}, {}

    def _authenticate(self, headers: dict[str, str]) -> None:
        lowered = {k.lower(): v for k, v in headers.items()}
        given = {lowered.get("authorization", ""), lowered.get("private-token", "")}
        accepted = {f"Bearer {self.token}", f"token {self.token}"}
        if self.kind is ForgeKind.GITLAB:
            accepted = {self.token, f"Bearer {self.token}"}
        if not given & accepted:
            raise Refused(401, "Bad credentials")

    def _check_parameters(
        self,
        params: list[Any],
        path_params: dict[str, str],
        query: dict[str, list[str]],
        method: str,
        path: str,
    ) -> None:
        declared = {(p.get("in"), p.get("name")): p for p in params}
        for name, value in path_params.items():
            if ("path", name) not in declared:
                raise Refused(404, f"{method} {path}: path parameter {name} is not declared")
            self._check_value(declared["path", name], value, f"{method} {path} {name}")
        for name, values in query.items():
            param = declared.get(("query", name))
            if param is None:
                raise Refused(422, f"{method} {path}: unknown query parameter {name}")
            for value in values:
                self._check_value(param, value, f"{method} {path} ?{name}")
        for (where, name), param in declared.items():
            if where == "query" and param.get("required") and name not in query:
                raise Refused(422, f"{method} {path}: query parameter {name} is required")

    def _check_fields(self, schema: Any, body: Any, what: str) -> None:
        """Fields the description does not declare are refused: a client that sends them
        relies on something the forge ignores (or a later version may reject)."""
        resolved = self.spec.resolve(
            {"$ref": schema["$ref"].removeprefix(_DOC)} if "$ref" in schema else schema
        )
        for variant in resolved.get("oneOf", [resolved]):
            variant = self.spec.resolve(variant)
            if variant.get("type") == "object" or "properties" in variant:
                declared = set(variant.get("properties", {}))
                unknown = sorted(set(body) - declared) if isinstance(body, dict) else []
                if unknown:
                    raise Refused(422, f"{what}: fields not in the description: {unknown}")
                return

    def _check_value(self, param: dict[str, Any], value: str, what: str) -> None:
        schema = param.get("schema", param)
        schema = self.spec.resolve(schema)
        kind = schema.get("type", "string")
        if isinstance(kind, list):
            kind = next(k for k in kind if k != "null")
        if kind in _QUERY_TYPES and not _QUERY_TYPES[kind](value):
            raise Refused(422, f"{what}: {value!r} is not {kind}")
        if "enum" in schema and value not in schema["enum"]:
            raise Refused(422, f"{what}: {value!r} is not one of {schema['enum']}")
        if "minimum" in schema and kind == "integer" and int(value) < schema["minimum"]:
            raise Refused(422, f"{what}: {value} is below {schema['minimum']}")

    # -- the calls ------------------------------------------------------------------------------

    def _branch_exists(self, branch: str) -> bool:
        return bool(
            _git(self.bare, "rev-parse", "-q", "--verify", f"refs/heads/{branch}", check=False)
        )

    def _dispatch(
        self,
        method: str,
        operation: dict[str, Any],
        path: dict[str, str],
        query: dict[str, list[str]],
        body: Any,
    ) -> tuple[int, Any, dict[str, str]]:
        owner_repo = f"{path.get('owner')}/{path.get('repo')}"
        if self.kind is ForgeKind.GITLAB:
            owner_repo = path.get("id", self.repository)  # /users is not a project's
        if owner_repo != self.repository:
            raise Refused(404, "expected:Not Found")
        op = str(operation.get("operationId", ""))
        handler = getattr(self, f"_{self.kind.value}", None)
        assert handler is not None
        result: tuple[int, Any, dict[str, str]] = handler(method, op, path, query, body)
        return result

    def _page(
        self, items: list[Any], query: dict[str, list[str]], size_name: str, default: int
    ) -> tuple[list[Any], dict[str, str]]:
        size = int(query.get(size_name, [str(default)])[0]) or default
        page = int(query.get("page", ["1"])[0])
        chunk = items[(page - 1) * size : page * size]
        headers: dict[str, str] = {}
        if page * size < len(items):
            if self.kind is ForgeKind.GITLAB:
                headers["X-Next-Page"] = str(page + 1)
            else:
                rest = "&".join(f"{k}={v}" for k, vs in query.items() if k != "page" for v in vs)
                here = self.requests[-1].path
                headers["Link"] = (
                    f'<{self.api_url.split("/api")[0]}{here}?{rest}&page={page + 1}>; rel="next"'
                )
        return chunk, headers

    def _create(self, head: str, base: str, title: str, body: str, draft: bool) -> FakePull:
        if not self._branch_exists(head):
            raise Refused(422, f"expected:head branch {head} does not exist")
        if any(p.head == head and p.base == base and p.state == "open" for p in self.pulls):
            raise Refused(
                409 if self.kind is not ForgeKind.GITHUB else 422,
                f"expected:A pull request already exists for {head}.",
            )
        pull = FakePull(len(self.pulls) + 1, title, body, head, base, draft=draft)
        pull.head_sha = _git(self.bare, "rev-parse", f"refs/heads/{head}")
        self.pulls.append(pull)
        return pull

    def _find(self, number: str) -> FakePull:
        for pull in self.pulls:
            if str(pull.number) == number:
                return pull
        raise Refused(404, "expected:Not Found")

    def _comment(self, number: str, comment_id: str) -> FakeComment:
        for pull in self.pulls:
            for comment in pull.comments:
                if str(comment.id) == comment_id and (not number or str(pull.number) == number):
                    return comment
        raise Refused(404, "expected:Not Found")

    def _response(self, operation_status: tuple[str, int], overlay: dict[str, Any]) -> Any:
        op, status = operation_status
        operation = next(
            o for _m, _p, _t, o, _ in self.spec.operations if o.get("operationId") == op
        )
        schema = self.spec.response_schema(operation, status)
        item_schema = self.spec.resolve(schema)
        if item_schema.get("type") == "array":
            item_schema = item_schema["items"]
        instance = self.spec.example(item_schema)
        return _overlay(instance, overlay)

    # GitHub ------------------------------------------------------------------------------------

    def _github_pull(self, pull: FakePull, op: str, status: int = 200) -> Any:
        owner = self.repository.split("/")[0]
        merged = pull.state == "merged"
        return self._response(
            (op, status),
            {
                "number": pull.number,
                "html_url": f"https://github.invalid/{self.repository}/pull/{pull.number}",
                "state": "open" if pull.state == "open" else "closed",
                "title": pull.title,
                "body": pull.body,
                "draft": pull.draft,
                "merged_at": "2026-12-03T00:00:00Z" if merged else None,
                "head": {"ref": pull.head, "label": f"{owner}:{pull.head}", "sha": pull.head_sha},
                "base": {"ref": pull.base, "label": f"{owner}:{pull.base}"},
            },
        )

    def _github(
        self, method: str, op: str, path: dict[str, str], query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        owner = self.repository.split("/")[0]
        if op == "pulls/list":
            state = query.get("state", ["open"])[0]
            chosen = [
                p for p in self.pulls if state == "all" or (p.state == "open") == (state == "open")
            ]
            if "head" in query:
                chosen = [p for p in chosen if f"{owner}:{p.head}" == query["head"][0]]
            if "base" in query:
                chosen = [p for p in chosen if p.base == query["base"][0]]
            if query.get("direction", ["desc"])[0] == "desc":
                chosen = list(reversed(chosen))
            page, headers = self._page(chosen, query, "per_page", 30)
            return 200, [self._github_pull(p, op) for p in page], headers
        if op == "pulls/create":
            head = body["head"].split(":", 1)[-1]
            pull = self._create(
                head, body["base"], body["title"], body.get("body", ""), bool(body.get("draft"))
            )
            return 201, self._github_pull(pull, op, 201), {}
        if op == "pulls/get":
            return 200, self._github_pull(self._find(path["pull_number"]), op), {}
        if op == "pulls/update":
            pull = self._find(path["pull_number"])
            pull.title = body.get("title", pull.title)
            pull.body = body.get("body", pull.body)
            if body.get("state") == "closed" and pull.state == "open":
                pull.state = "closed"
            return 200, self._github_pull(pull, op), {}
        if op == "issues/add-labels":
            pull = self._find(path["issue_number"])
            pull.labels += [str(label) for label in body["labels"]]
            return 200, [self._response((op, 200), {"name": n}) for n in pull.labels], {}
        if op == "pulls/request-reviewers":
            pull = self._find(path["pull_number"])
            pull.reviewers += list(body.get("reviewers", []))
            return 201, self._github_pull(pull, op, 201), {}
        if op == "issues/list-comments":
            pull = self._find(path["issue_number"])
            page, headers = self._page(pull.comments, query, "per_page", 30)
            return (
                200,
                [self._response((op, 200), {"id": c.id, "body": c.body}) for c in page],
                headers,
            )
        if op == "issues/create-comment":
            comment = self.add_comment(
                int(self._find(path["issue_number"]).number), body["body"], "bot"
            )
            return 201, self._response((op, 201), {"id": comment.id, "body": comment.body}), {}
        if op == "issues/update-comment":
            comment = self._comment("", path["comment_id"])
            comment.body = body["body"]
            return 200, self._response((op, 200), {"id": comment.id, "body": comment.body}), {}
        raise Refused(404, f"the fake does not serve {op}")

    # Gitea -------------------------------------------------------------------------------------

    def _gitea_pull(self, pull: FakePull, op: str, status: int = 200) -> Any:
        title = (
            f"WIP: {pull.title}" if pull.draft and not pull.title.startswith("WIP:") else pull.title
        )
        return self._response(
            (op, status),
            {
                "number": pull.number,
                "html_url": f"https://gitea.invalid/{self.repository}/pulls/{pull.number}",
                "state": "open" if pull.state == "open" else "closed",
                "merged": pull.state == "merged",
                "title": title,
                "body": pull.body,
                "head": {"ref": pull.head, "sha": pull.head_sha},
                "base": {"ref": pull.base},
            },
        )

    def _gitea(
        self, method: str, op: str, path: dict[str, str], query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if op == "repoListPullRequests":
            state = query.get("state", ["open"])[0]
            chosen = [
                p for p in self.pulls if state == "all" or (p.state == "open") == (state == "open")
            ]
            if "base_branch" in query:
                chosen = [p for p in chosen if p.base == query["base_branch"][0]]
            page, headers = self._page(list(reversed(chosen)), query, "limit", 20)
            return 200, [self._gitea_pull(p, op) for p in page], headers
        if op == "repoCreatePullRequest":
            title = str(body.get("title", ""))
            draft = title.upper().startswith("WIP:")
            pull = self._create(body["head"], body["base"], title, body.get("body", ""), draft)
            pull.title = title.removeprefix("WIP:").strip() if draft else title
            return 201, self._gitea_pull(pull, op, 201), {}
        if op == "repoGetPullRequest":
            return 200, self._gitea_pull(self._find(path["index"]), op), {}
        if op == "repoEditPullRequest":
            pull = self._find(path["index"])
            if "title" in body:
                title = str(body["title"])
                pull.draft = title.upper().startswith("WIP:")
                pull.title = title.removeprefix("WIP:").strip() if pull.draft else title
            pull.body = body.get("body", pull.body)
            if body.get("state") == "closed" and pull.state == "open":
                pull.state = "closed"
            return 201, self._gitea_pull(pull, op, 201), {}
        if op == "issueAddLabel":
            pull = self._find(path["index"])
            pull.labels += [str(label) for label in body.get("labels", [])]
            return 200, [self._response((op, 200), {"name": n}) for n in pull.labels], {}
        if op == "repoCreatePullReviewRequests":
            pull = self._find(path["index"])
            pull.reviewers += list(body.get("reviewers", []))
            return 201, [], {}
        if op == "issueGetComments":
            pull = self._find(path["index"])
            return (
                200,
                [self._response((op, 200), {"id": c.id, "body": c.body}) for c in pull.comments],
                {},
            )
        if op == "issueCreateComment":
            comment = self.add_comment(self._find(path["index"]).number, body["body"], "bot")
            return 201, self._response((op, 201), {"id": comment.id, "body": comment.body}), {}
        if op == "issueEditComment":
            comment = self._comment("", path["id"])
            comment.body = body["body"]
            return 200, self._response((op, 200), {"id": comment.id, "body": comment.body}), {}
        raise Refused(404, f"the fake does not serve {op}")

    # GitLab ------------------------------------------------------------------------------------

    USERS: ClassVar[dict[str, int]] = {"alice": 11, "bob": 12}

    def _gitlab_mr(self, pull: FakePull, op: str, status: int = 200) -> Any:
        return self._response(
            (op, status),
            {
                "iid": pull.number,
                "id": 500 + pull.number,
                "web_url": f"https://gitlab.invalid/{self.repository}/-/merge_requests/{pull.number}",
                "state": {"open": "opened"}.get(pull.state, pull.state),
                "title": f"Draft: {pull.title}" if pull.draft else pull.title,
                "description": pull.body,
                "source_branch": pull.head,
                "target_branch": pull.base,
                "draft": "true" if pull.draft else "false",
            },
        )

    def _gitlab(
        self, method: str, op: str, path: dict[str, str], query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if op == "getApiV4ProjectsIdMergeRequests":
            state = query.get("state", ["all"])[0]
            wanted = {"opened": "open"}.get(state, state)
            chosen = [p for p in self.pulls if wanted == "all" or p.state == wanted]
            if "source_branch" in query:
                chosen = [p for p in chosen if p.head == query["source_branch"][0]]
            if "target_branch" in query:
                chosen = [p for p in chosen if p.base == query["target_branch"][0]]
            if query.get("sort", ["desc"])[0] == "desc":
                chosen = list(reversed(chosen))
            page, headers = self._page(chosen, query, "per_page", 20)
            return 200, [self._gitlab_mr(p, op) for p in page], headers
        if op == "postApiV4ProjectsIdMergeRequests":
            title = str(body["title"])
            draft = title.startswith("Draft:")
            pull = self._create(
                body["source_branch"],
                body["target_branch"],
                title,
                body.get("description", ""),
                draft,
            )
            pull.title = title.removeprefix("Draft:").strip() if draft else title
            return 201, self._gitlab_mr(pull, op, 201), {}
        if op == "getApiV4ProjectsIdMergeRequestsMergeRequestIid":
            return 200, self._gitlab_mr(self._find(path["merge_request_iid"]), op), {}
        if op == "putApiV4ProjectsIdMergeRequestsMergeRequestIid":
            pull = self._find(path["merge_request_iid"])
            if "title" in body:
                title = str(body["title"])
                pull.draft = title.startswith("Draft:")
                pull.title = title.removeprefix("Draft:").strip() if pull.draft else title
            pull.body = body.get("description", pull.body)
            if body.get("state_event") == "close" and pull.state == "open":
                pull.state = "closed"
            pull.labels += [str(label) for label in body.get("add_labels", [])]
            ids = {v: k for k, v in self.USERS.items()}
            pull.reviewers += [ids[i] for i in body.get("reviewer_ids", [])]
            return 200, self._gitlab_mr(pull, op), {}
        if op == "docsListMergeRequestNotes":
            pull = self._find(path["merge_request_iid"])
            notes = [
                self._response(
                    (op, 200),
                    {"id": c.id, "body": c.body, "system": False, "noteable_type": "MergeRequest"},
                )
                for c in pull.comments
            ]
            page, headers = self._page(notes, query, "per_page", 20)
            return 200, page, headers
        if op == "docsCreateMergeRequestNote":
            comment = self.add_comment(
                self._find(path["merge_request_iid"]).number, body["body"], "bot"
            )
            return (
                201,
                self._response(
                    (op, 201),
                    {
                        "id": comment.id,
                        "body": comment.body,
                        "system": False,
                        "noteable_type": "MergeRequest",
                    },
                ),
                {},
            )
        if op == "docsUpdateMergeRequestNote":
            comment = self._comment(path["merge_request_iid"], path["note_id"])
            comment.body = body["body"]
            return (
                200,
                self._response(
                    (op, 200),
                    {
                        "id": comment.id,
                        "body": comment.body,
                        "system": False,
                        "noteable_type": "MergeRequest",
                    },
                ),
                {},
            )
        if op == "docsListUsers":
            name = query.get("username", [""])[0]
            found = [{"id": self.USERS[name], "username": name}] if name in self.USERS else []
            return 200, [self._response((op, 200), u) for u in found], {}
        raise Refused(404, f"the fake does not serve {op}")


def _overlay(instance: Any, overlay: dict[str, Any]) -> Any:
    result = copy.deepcopy(instance) if isinstance(instance, dict) else {}
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _overlay(result[key], value)
        else:
            result[key] = value
    return result


def pull_heads(forge: FakeForge) -> Iterator[str]:
    yield from (p.head for p in forge.pulls)
