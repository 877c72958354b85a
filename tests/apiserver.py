"""A local HTTP server that speaks the parts of the Kubernetes API discovery uses.

It serves ``GET /api/v1/namespaces/{ns}/services`` with real ``limit``/``continue`` pagination,
``GET /api/v1/namespaces/{ns}/services/{name}`` and ``GET /api/v1/namespaces/{ns}``, answers
403 for forbidden namespaces and 401 for refused credentials as the API server does, and can
expire a continue token once (410) to exercise the restart path. It can serve TLS with a
self-signed certificate; :func:`silent_server` accepts connections and never answers.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class FakeCluster:
    services: list[dict[str, Any]]
    forbidden: set[str] = field(default_factory=set)
    expire_once: set[str] = field(default_factory=set)
    requests: list[str] = field(default_factory=list)
    authorization: list[str] = field(default_factory=list)
    empty_namespaces: set[str] = field(default_factory=set)
    """Namespaces that exist without any Service (others exist when a Service is in them)."""
    namespaces_forbidden: bool = False
    """Whether reading Namespace objects is forbidden (RBAC that grants only services)."""
    unauthorized: bool = False
    """Whether every request is refused with 401, as for an expired token."""
    patch_body: dict[bytes, bytes] = field(default_factory=dict)
    """Byte replacements in every JSON answer, for what json.dumps cannot write (huge ints)."""

    def namespace_items(self, namespace: str) -> list[dict[str, Any]]:
        return [s for s in self.services if s["metadata"]["namespace"] == namespace]

    def namespace_exists(self, namespace: str) -> bool:
        return namespace in self.empty_namespaces or bool(self.namespace_items(namespace))


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
            if cluster.unauthorized:
                return self._send(401, _status(401, "Unauthorized", "Unauthorized"))
            url = urlparse(self.path)
            parts = url.path.strip("/").split("/")
            if parts[:3] != ["api", "v1", "namespaces"] or len(parts) not in (4, 5, 6):
                return self._send(404, _status(404, "NotFound", "not found"))
            namespace = parts[3]
            if len(parts) == 4:
                return self._namespace(namespace)
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

        def _namespace(self, namespace: str) -> None:
            if cluster.namespaces_forbidden:
                message = f'namespaces "{namespace}" is forbidden: User "system:serviceaccount:'
                message += 'ci:nexus" cannot get resource "namespaces" in API group ""'
                return self._send(403, _status(403, "Forbidden", message))
            if not cluster.namespace_exists(namespace):
                message = f'namespaces "{namespace}" not found'
                return self._send(404, _status(404, "NotFound", message))
            body = {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": namespace}}
            return self._send(200, body)

        def _send(self, code: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            for old, new in cluster.patch_body.items():
                data = data.replace(old, new)
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files."""

    cert: Path
    key: Path


def self_signed(directory: Path) -> Certificate:
    """A fresh self-signed certificate (its own CA) for IP 127.0.0.1, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "nexus-test-apiserver")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    files = Certificate(directory / "server.crt", directory / "server.key")
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


@contextmanager
def serve(cluster: FakeCluster, tls: Certificate | None = None) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(cluster))
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls.cert, tls.key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def silent_server() -> Iterator[str]:
    """A server that accepts every connection and never sends a byte, as a hung API server
    or a black-holing proxy does."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()


def write_kubeconfig(
    path: Path,
    server: str,
    token: str = "kube-token-secret",
    certificate_authority: Path | None = None,
) -> Path:
    cluster: dict[str, Any] = {"server": server}
    if certificate_authority is not None:
        cluster["certificate-authority"] = str(certificate_authority)
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {"name": "test", "cluster": cluster},
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
