"""A local HTTP server that speaks the parts of the Kubernetes API discovery uses.

It serves ``GET /api/v1/namespaces/{ns}/services`` with real ``limit``/``continue`` pagination
and ``GET /api/v1/namespaces/{ns}/services/{name}``, answers 403 for forbidden namespaces as the
API server does, and can expire a continue token once (410) to exercise the restart path.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse


@dataclass
class FakeCluster:
    services: list[dict[str, Any]]
    forbidden: set[str] = field(default_factory=set)
    expire_once: set[str] = field(default_factory=set)
    requests: list[str] = field(default_factory=list)
    authorization: list[str] = field(default_factory=list)

    def namespace_items(self, namespace: str) -> list[dict[str, Any]]:
        return [s for s in self.services if s["metadata"]["namespace"] == namespace]


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


def _handler(cluster: FakeCluster) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            cluster.requests.append(self.path)
            cluster.authorization.append(self.headers.get("Authorization", ""))
            url = urlparse(self.path)
            parts = url.path.strip("/").split("/")
            if parts[:3] != ["api", "v1", "namespaces"] or len(parts) not in (5, 6):
                return self._send(404, _status(404, "NotFound", "not found"))
            namespace = parts[3]
            if namespace in cluster.forbidden:
                return self._send(
                    403,
                    _status(
                        403,
                        "Forbidden",
                        (
                            'services is forbidden: User "system:serviceaccount:ci:nexus" '
                            "cannot list "
                            f'resource "services" in API group "" in the namespace "{namespace}"'
                        ),
                    ),
                )
            items = cluster.namespace_items(namespace)
            if len(parts) == 6:
                found = [s for s in items if s["metadata"]["name"] == parts[5]]
                if not found:
                    return self._send(
                        404, _status(404, "NotFound", f'services "{parts[5]}" not found')
                    )
                return self._send(200, found[0])
            query = parse_qs(url.query)
            limit = int(query.get("limit", ["0"])[0]) or len(items) or 1
            token = query.get("continue", [""])[0]
            if token and token in cluster.expire_once:
                cluster.expire_once.discard(token)
                return self._send(410, _status(410, "Expired", "continue token expired"))
            start = int(token.split("-")[1]) if token else 0
            page = items[start : start + limit]
            more = start + limit < len(items)
            metadata = {"resourceVersion": "4100999"}
            if more:
                metadata["continue"] = f"page-{start + limit}"
            return self._send(
                200,
                {"kind": "ServiceList", "apiVersion": "v1", "metadata": metadata, "items": page},
            )

        def _send(self, code: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextmanager
def serve(cluster: FakeCluster) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(cluster))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def write_kubeconfig(path: Path, server: str, token: str = "kube-token-secret") -> Path:
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {"name": "test", "cluster": {"server": server}},
                    {"name": "elsewhere", "cluster": {"server": "http://127.0.0.1:9"}},
                ],
                "users": [{"name": "ci", "user": {"token": token}}],
                "contexts": [
                    {"name": "test", "context": {"cluster": "test", "user": "ci"}},
                    {"name": "elsewhere", "context": {"cluster": "elsewhere", "user": "ci"}},
                ],
                "current-context": "elsewhere",
            }
        )
    )
    return path
