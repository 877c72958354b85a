"""Run real nginx on our Ingress objects, translated the way ingress-nginx translates them.

The point is fidelity where routing and TLS are decided, so a test that passes here would pass
behind ingress-nginx. What is emulated, and why each rule matters to us:

* **Servers.** One nginx ``server`` per rule host; rules with the same host merge across
  Ingresses, and host-less rules all go into the default server ``_``. A request is routed by
  its Host header, so a host rule *always* beats a host-less rule for that name: a host-less
  path route is only reached for names that have no server of their own.
* **Order.** Ingresses are taken as ingress-nginx sorts them (creation time, then
  ``namespace/name``). The first Ingress wins a duplicate host+path, and the first that lists a
  host in its ``spec.tls`` chooses that host's certificate. Locations in a server are sorted
  longest path first, as ingress-nginx sorts them; nginx tries regex locations in that order.
* **Regex.** If any location of a server uses ``use-regex`` or ``rewrite-target``, every location
  of that server becomes ``location ~* "^<path>"`` (ingress-nginx's ``enforceRegexModifier``),
  including other Ingresses' ``/``. ``rewrite-target`` becomes ``rewrite "(?i)<path>" <target>
  break;``, ``x-forwarded-prefix`` a ``proxy_set_header X-Forwarded-Prefix``, and
  ``proxy-body-size``, ``proxy-request-buffering`` and the timeouts the nginx directives of the
  same meaning.
* **Default backend.** Every server starts with a ``/`` location answering 404, replaced by the
  first Ingress path ``/`` for that host, so unknown paths get 404 as from ingress-nginx.
* **TLS** (only when ``tls_port`` is given; otherwise ``spec.tls`` is ignored and the config is
  plain HTTP as before). Every server also listens on ``tls_port``. A server gets the
  certificate of the Secret named by the first Ingress, with a rule for its host, whose
  ``spec.tls`` lists the host (or whose Secret's certificate covers it). Every other server, the
  default server ``_`` always, and any client without SNI, get ingress-nginx's self-signed
  "Kubernetes Ingress Controller Fake Certificate". So a ``tls.hosts`` entry with no rule for
  that host does nothing, which is exactly the bug the TLS tests pin down.
* **ssl-redirect.** A plain-HTTP request for a host with a certificate configured is answered
  308 to ``https://`` (ingress-nginx's default ``ssl-redirect: "true"``), also when that
  certificate is the fake one; ``force-ssl-redirect: "true"`` redirects any host.
* **X-Forwarded-Proto** is ``$scheme``, so a backend learns the client used HTTPS.

Only the annotations this project generates are translated; an unknown one fails the test
rather than being ignored. So does a ``spec.tls`` Secret the test did not provide, a ``Prefix``
path other than ``/``, and a wildcard host: the harness would otherwise have to guess.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple

from cryptography import x509

from tests import certs
from tests.certs import CertFiles, CertificateAuthority
from tests.tools import free_port, require

PREFIX = "nginx.ingress.kubernetes.io/"
DIRECTIVES = {
    "proxy-body-size": "client_max_body_size {};",
    "proxy-request-buffering": "proxy_request_buffering {};",
    "proxy-read-timeout": "proxy_read_timeout {}s;",
    "proxy-send-timeout": "proxy_send_timeout {}s;",
}
HANDLED_ELSEWHERE = {
    "rewrite-target",
    "use-regex",
    "x-forwarded-prefix",
    "ssl-redirect",
    "force-ssl-redirect",
}
DEFAULT_SERVER = "_"

Ingress = Mapping[str, Any]
# secretName (or "namespace/secretName", which wins) -> (certificate PEM, key PEM)
Secrets = Mapping[str, tuple[Path, Path]]


def _annotations(ingress: Ingress) -> dict[str, str]:
    annotations = ingress["metadata"].get("annotations") or {}
    found = {k.removeprefix(PREFIX): v for k, v in annotations.items() if k.startswith(PREFIX)}
    for key in found:
        if key not in DIRECTIVES and key not in HANDLED_ELSEWHERE:
            raise AssertionError(f"the nginx harness does not translate annotation {key}")
    return found


def _ordered(ingresses: Sequence[Ingress]) -> list[Ingress]:
    """ingress-nginx's ``sortIngressSlice``: oldest first, ties by ``namespace/name``."""
    return sorted(
        ingresses,
        key=lambda i: (
            str(i["metadata"].get("creationTimestamp") or ""),
            f"{i['metadata'].get('namespace', '')}/{i['metadata']['name']}",
        ),
    )


def _host(rule: Mapping[str, Any]) -> str:
    host = str(rule.get("host") or DEFAULT_SERVER)
    if "*" in host:
        raise AssertionError(f"the nginx harness does not translate wildcard host {host}")
    return host


@dataclass
class _Location:
    path: str
    path_type: str
    ingress: Ingress | None  # whose annotations apply; None: no Ingress made this server
    upstream: str | None  # None: ingress-nginx's default backend, which answers 404

    def annotations(self) -> dict[str, str]:
        return _annotations(self.ingress) if self.ingress is not None else {}

    def uses_regex(self) -> bool:
        """ingress-nginx's ``needsRewrite(location) || location.Rewrite.UseRegex``."""
        if self.upstream is None:
            return False
        annotations = self.annotations()
        target = annotations.get("rewrite-target", "")
        return annotations.get("use-regex") == "true" or (target != "" and target != self.path)


def _servers(ordered: list[Ingress], backends: Mapping[str, int]) -> dict[str, list[_Location]]:
    """host -> its locations, longest path first: ingress-nginx's ``createServers`` and
    ``getBackendServers``. The Ingress that first names a host also lends its annotations to
    that server's default ``/`` location, as ``locationApplyAnnotations`` does."""
    servers: dict[str, list[_Location]] = {}
    for ingress in ordered:
        for rule in ingress["spec"].get("rules", []):
            locations = servers.setdefault(
                _host(rule), [_Location("/", "Prefix", ingress, upstream=None)]
            )
            for path in rule["http"]["paths"]:
                if path["pathType"] == "Prefix" and path["path"] != "/":
                    # ingress-nginx would split it into "<path>/" and "= <path>"; we render none.
                    raise AssertionError(f"the nginx harness translates only Prefix /: {path}")
                service = path["backend"]["service"]["name"]
                new = _Location(
                    path["path"], path["pathType"], ingress, f"127.0.0.1:{backends[service]}"
                )
                same = [
                    loc
                    for loc in locations
                    if (loc.path, loc.path_type) == (new.path, new.path_type)
                ]
                if not same:
                    locations.append(new)
                elif same[0].upstream is None:  # replaces the default backend
                    locations[locations.index(same[0])] = new
                # else: "Location already configured", the older Ingress keeps it
    servers.setdefault(DEFAULT_SERVER, [_Location("/", "Prefix", None, upstream=None)])
    for locations in servers.values():
        locations.sort(key=lambda loc: loc.path, reverse=True)  # both sorts are stable
        locations.sort(key=lambda loc: len(loc.path), reverse=True)
    return servers


def _secret(ingress: Ingress, name: str, secrets: Secrets) -> tuple[Path, Path]:
    namespace = ingress["metadata"].get("namespace", "")
    for key in (f"{namespace}/{name}", name):
        if key in secrets:
            return secrets[key]
    raise AssertionError(
        f"Ingress {ingress['metadata']['name']} names TLS Secret {name}, which the test did not "
        "provide in secrets (a real controller would fall back to its fake certificate)"
    )


def _certificates(ordered: list[Ingress], secrets: Secrets) -> dict[str, tuple[Path, Path] | None]:
    """host -> the certificate ingress-nginx gives its server (``None``: the fake default).

    A host missing from the result has no certificate configured: the fake one is served for it
    too, but plain HTTP to it is not redirected. ``createServers`` in ingress-nginx: for each
    Ingress in order and each rule, the first decision for a host sticks; an Ingress that has a
    ``tls`` section but none for the host settles it on the fake certificate.
    """
    for ingress in ordered:
        for tls in ingress["spec"].get("tls") or []:
            if not tls.get("secretName"):
                raise AssertionError(f"tls without secretName in {ingress['metadata']['name']}")
            _secret(ingress, tls["secretName"], secrets)
    chosen: dict[str, tuple[Path, Path] | None] = {}
    for ingress in ordered:
        tls_entries = ingress["spec"].get("tls") or []
        for rule in ingress["spec"].get("rules", []):
            host = _host(rule)
            if host == DEFAULT_SERVER or host in chosen or not tls_entries:
                continue  # ``_`` and clients without SNI always get the default certificate
            files = _tls_secret_for(host, ingress, tls_entries, secrets)
            chosen[host] = files if files and certs.covers(certs.load(files[0]), host) else None
    return chosen


def _tls_secret_for(
    host: str, ingress: Ingress, tls_entries: list[Mapping[str, Any]], secrets: Secrets
) -> tuple[Path, Path] | None:
    """ingress-nginx's ``extractTLSSecretName``: the entry listing the host, else the first
    Secret whose certificate covers the host anyway."""
    for tls in tls_entries:
        if host.lower() in (h.lower() for h in tls.get("hosts") or []):
            return _secret(ingress, tls["secretName"], secrets)
    for tls in tls_entries:
        files = _secret(ingress, tls["secretName"], secrets)
        if certs.covers(certs.load(files[0]), host):
            return files
    return None


def _location(loc: _Location, enforce_regex: bool, has_certificate: bool) -> str:
    """One nginx ``location``, as ingress-nginx's template writes it for our annotations. The
    ssl-redirect test is its Lua ``redirect_to_https``: the server's Host has a certificate."""
    annotations = loc.annotations()
    lines = []
    redirect = annotations.get("force-ssl-redirect") == "true" or (
        has_certificate and annotations.get("ssl-redirect", "true") != "false"
    )
    if redirect:  # before the rewrite: ``rewrite ... break`` ends the rewrite phase
        lines.append(
            "if ($scheme = http) {\n            return 308 https://$host$request_uri;\n        }"
        )
    if enforce_regex:
        head = f'location ~* "^{loc.path}"'
    elif loc.path_type == "Prefix":
        head = f"location {loc.path}"
    else:
        raise AssertionError(f"unsupported path {loc.path} ({loc.path_type}) without use-regex")
    if loc.upstream is None:
        lines.append("return 404;")
        return head + " {\n        " + "\n        ".join(lines) + "\n    }"
    for key, value in sorted(annotations.items()):
        if key in DIRECTIVES:
            lines.append(DIRECTIVES[key].format(value))
    lines.append("proxy_set_header X-Forwarded-Proto $scheme;")
    if annotations.get("x-forwarded-prefix"):
        lines.append(f'proxy_set_header X-Forwarded-Prefix "{annotations["x-forwarded-prefix"]}";')
    target = annotations.get("rewrite-target", "")
    if target and target != loc.path:
        lines.append(f'rewrite "(?i){loc.path}" {target} break;')
    lines.append(f"proxy_pass http://{loc.upstream};")
    return head + " {\n        " + "\n        ".join(lines) + "\n    }"


def nginx_config(
    ingresses: Sequence[Ingress],
    backends: Mapping[str, int],
    port: int,
    workdir: Path,
    tls_port: int | None = None,
    secrets: Secrets | None = None,
) -> str:
    """The nginx.conf that ingress-nginx would run for ``ingresses`` (see the module docstring).

    ``backends`` maps a Service name to the local port of its recording backend. With
    ``tls_port``, TLS is emulated: ``secrets`` must hold every Secret the Ingresses name, and the
    fake default certificate is written to ``workdir``.
    """
    ordered = _ordered(ingresses)
    servers = _servers(ordered, backends)
    chosen: dict[str, tuple[Path, Path] | None] = {}
    tls_http = ""
    if tls_port is not None:
        chosen = _certificates(ordered, secrets or {})
        fake = certs.fake_default_certificate(workdir / "default-certificate")
        tls_http = (
            f"ssl_certificate {fake.cert};\nssl_certificate_key {fake.key};\n"
            "ssl_protocols TLSv1.2 TLSv1.3;\n"
        )
    blocks = []
    for host, locations in sorted(servers.items()):
        default = " default_server" if host == DEFAULT_SERVER else ""
        head = [f"listen 127.0.0.1:{port}{default};"]
        if tls_port is not None:
            head.append(f"listen 127.0.0.1:{tls_port} ssl{default};")
        head.append(f"server_name {host};")
        own = chosen.get(host)
        if own is not None:
            head.append(f"ssl_certificate {own[0]};\n    ssl_certificate_key {own[1]};")
        enforce_regex = any(loc.uses_regex() for loc in locations)
        body = [_location(loc, enforce_regex, host in chosen) for loc in locations]
        blocks.append("server {\n    " + "\n    ".join(head + body) + "\n}")
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = " ".join(
        f"{kind}_temp_path {workdir}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"{user}daemon off;\npid {workdir}/nginx.pid;\nerror_log {workdir}/error.log;\n"
        "events {}\nhttp {\n"
        f"access_log off;\n{temp}\n{tls_http}" + "\n".join(blocks) + "\n}\n"
    )


def backend_names(ingresses: Sequence[Ingress]) -> list[str]:
    """Every Service the Ingresses send traffic to: the recording backends to start."""
    return sorted(
        {
            p["backend"]["service"]["name"]
            for i in ingresses
            for r in i["spec"].get("rules", [])
            for p in r["http"]["paths"]
        }
    )


def tls_secrets(ingresses: Sequence[Ingress], ca: CertificateAuthority) -> dict[str, CertFiles]:
    """A CA-signed certificate for every Secret the Ingresses name, valid for exactly the hosts
    their ``spec.tls`` entries list with it (as cert-manager would issue them). Its Common Name
    is the Secret's name, so a test can see which Secret a server presented."""
    hosts: dict[str, list[str]] = {}
    for ingress in ingresses:
        for tls in ingress["spec"].get("tls") or []:
            names = hosts.setdefault(tls["secretName"], [])
            names.extend(h for h in tls.get("hosts") or [] if h not in names)
    return {secret: ca.issue(secret, names) for secret, names in hosts.items()}


class _Echo(BaseHTTPRequestHandler):
    """A backend that reports what reached it: its name, the path and the forwarded headers."""

    name = "backend"

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        received = len(self.rfile.read(length)) if length else 0
        body = json.dumps(
            {
                "service": self.name,
                "path": self.path,
                "received": received,
                "prefix": self.headers.get("X-Forwarded-Prefix"),
                "proto": self.headers.get("X-Forwarded-Proto"),
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def backends(names: list[str]) -> Iterator[dict[str, int]]:
    servers = []
    for name in names:
        handler = type(f"Echo_{name}", (_Echo,), {"name": name})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        servers.append(server)
    try:
        yield {name: s.server_port for name, s in zip(names, servers, strict=True)}
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


@contextmanager
def nginx(binary: str, config_text: str, workdir: Path, port: int) -> Iterator[str]:
    conf = workdir / "nginx.conf"
    conf.write_text(config_text)
    check = subprocess.run(
        [binary, "-t", "-p", str(workdir), "-c", str(conf)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr + config_text
    process = subprocess.Popen(
        [binary, "-p", str(workdir), "-c", str(conf)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        # Any answer means nginx is up (it binds every listen socket, HTTP and TLS, before it
        # serves any). Redirects are not followed: the default server may redirect to https.
        while True:
            try:
                http_request(port, "/nexus-probe", host="127.0.0.1", timeout=1)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("nginx did not start") from None
                time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


@dataclass(frozen=True)
class Proxy:
    """A running emulated ingress-nginx: where to send requests and what clients should trust."""

    http_port: int
    tls_port: int
    ca: Path  # the CA that signed every Secret in ``secrets``
    secrets: dict[str, CertFiles]
    config: str


@contextmanager
def serve(ingresses: Sequence[Ingress], workdir: Path) -> Iterator[Proxy]:
    """Recording backends, certificates for every named Secret and nginx, in one step: the
    entry point for a test that has a list of Ingresses (hand-written or rendered)."""
    ca = CertificateAuthority(workdir / "pki")
    secrets = tls_secrets(ingresses, ca)
    port, tls_port = free_port(), free_port()
    with backends(backend_names(ingresses)) as ports:
        text = nginx_config(ingresses, ports, port, workdir, tls_port=tls_port, secrets=secrets)
        with nginx(require("nginx"), text, workdir, port):
            yield Proxy(port, tls_port, ca.cert, secrets, text)


def request(
    url: str, method: str = "GET", body: bytes | None = None, host: str | None = None
) -> tuple[int, dict[str, Any]]:
    req = urllib.request.Request(url, data=body, method=method)
    if host:
        req.add_header("Host", host)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, {}


class ServedCertificate(NamedTuple):
    """The certificate a server presented in the handshake."""

    subject_cn: str | None
    issuer_cn: str | None
    dns_names: tuple[str, ...]
    fingerprint: str

    @property
    def is_fake(self) -> bool:
        return self.subject_cn == certs.FAKE_CN


class Reply(NamedTuple):
    status: int
    body: dict[str, Any]  # the recording backend's report; {} for nginx's own answers
    location: str | None  # the Location header (redirects are not followed)
    certificate: ServedCertificate | None  # None over plain HTTP


def served(cert: x509.Certificate) -> ServedCertificate:
    return ServedCertificate(
        certs.common_name(cert.subject),
        certs.common_name(cert.issuer),
        tuple(certs.dns_names(cert)),
        certs.fingerprint(cert),
    )


def _exchange(
    conn: http.client.HTTPConnection,
    path: str,
    host: str,
    method: str,
    body: bytes | None,
    certificate: ServedCertificate | None,
) -> Reply:
    try:
        conn.request(method, path, body=body, headers={"Host": host})
        response = conn.getresponse()
        data = response.read()
        is_json = response.getheader("Content-Type", "").startswith("application/json")
        return Reply(
            response.status,
            json.loads(data) if is_json else {},
            response.getheader("Location"),
            certificate,
        )
    finally:
        conn.close()


def http_request(
    port: int,
    path: str,
    *,
    host: str,
    method: str = "GET",
    body: bytes | None = None,
    timeout: float = 10,
) -> Reply:
    """Plain HTTP to 127.0.0.1:``port`` with a Host header; a redirect is returned, not followed."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    return _exchange(conn, path, host, method, body, None)


def https_request(
    tls_port: int,
    path: str,
    *,
    sni: str | None,
    ca: Path | None,
    host: str | None = None,
    method: str = "GET",
    body: bytes | None = None,
) -> Reply:
    """HTTPS to 127.0.0.1:``tls_port``, as a client that asked for ``sni`` would connect.

    With ``ca``, the certificate must chain to that CA and name ``sni`` (what every OpenStack
    client does by default); a failure raises ``ssl.SSLCertVerificationError``. ``ca=None``
    turns verification off, the only way to look at the fake default certificate: there is no
    default, so no test skips verification by omission. ``sni=None`` sends no SNI, as a client
    connecting to an IP address does. ``host`` (the Host header) defaults to ``sni``.
    """
    if ca is not None:
        assert sni, "a verifying client checks the name it connected to: give sni"
        context = ssl.create_default_context(cafile=str(ca))
        context.check_hostname = True
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", tls_port), timeout=10)
    try:
        tls = context.wrap_socket(raw, server_hostname=sni)
    except BaseException:
        raw.close()
        raise
    der = tls.getpeercert(binary_form=True)
    assert der is not None
    certificate = served(x509.load_der_x509_certificate(der))
    conn = http.client.HTTPConnection("127.0.0.1", tls_port, timeout=10)
    conn.sock = tls
    header = host or sni
    assert header, "give host when sending no SNI"
    return _exchange(conn, path, header, method, body, certificate)


__all__ = [
    "Proxy",
    "Reply",
    "ServedCertificate",
    "backend_names",
    "backends",
    "free_port",
    "http_request",
    "https_request",
    "nginx",
    "nginx_config",
    "request",
    "serve",
    "tls_secrets",
]
