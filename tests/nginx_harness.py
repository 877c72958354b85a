"""Run real nginx on our Ingress objects, translated the way ingress-nginx translates them.

ingress-nginx turns a ``use-regex`` path into ``location ~* "^<path>"`` and ``rewrite-target``
into ``rewrite "(?i)<path>" <target> break;``, ``x-forwarded-prefix`` into a
``proxy_set_header X-Forwarded-Prefix``, and ``proxy-body-size``, ``proxy-request-buffering``
and the timeouts into the nginx directives of the same meaning. Only the annotations this
project generates are translated; an unknown one fails the test rather than being ignored.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.tools import free_port

PREFIX = "nginx.ingress.kubernetes.io/"
DIRECTIVES = {
    "proxy-body-size": "client_max_body_size {};",
    "proxy-request-buffering": "proxy_request_buffering {};",
    "proxy-read-timeout": "proxy_read_timeout {}s;",
    "proxy-send-timeout": "proxy_send_timeout {}s;",
}
HANDLED_ELSEWHERE = {"rewrite-target", "use-regex", "x-forwarded-prefix"}


def _location(ingress: Mapping[str, Any], path: Mapping[str, Any], upstream: str) -> str:
    annotations = {
        k.removeprefix(PREFIX): v
        for k, v in ingress["metadata"]["annotations"].items()
        if k.startswith(PREFIX)
    }
    lines = []
    for key, value in sorted(annotations.items()):
        if key in DIRECTIVES:
            lines.append(DIRECTIVES[key].format(value))
        elif key not in HANDLED_ELSEWHERE:
            raise AssertionError(f"the nginx harness does not translate annotation {key}")
    if annotations.get("x-forwarded-prefix"):
        lines.append(f'proxy_set_header X-Forwarded-Prefix "{annotations["x-forwarded-prefix"]}";')
    if annotations.get("use-regex") == "true":
        head = f'location ~* "^{path["path"]}"'
    elif path["pathType"] == "Prefix":
        head = f"location {path['path']}"
    else:
        raise AssertionError(f"unsupported path {path}")
    if annotations.get("rewrite-target"):
        lines.append(f'rewrite "(?i){path["path"]}" {annotations["rewrite-target"]} break;')
    lines.append(f"proxy_pass http://{upstream};")
    return head + " {\n        " + "\n        ".join(lines) + "\n    }"


def nginx_config(
    ingresses: list[Mapping[str, Any]], backends: Mapping[str, int], port: int, workdir: Path
) -> str:
    servers: dict[str, list[str]] = {}
    for ingress in ingresses:
        for rule in ingress["spec"]["rules"]:
            host = rule.get("host", "_")
            for path in rule["http"]["paths"]:
                service = path["backend"]["service"]["name"]
                upstream = f"127.0.0.1:{backends[service]}"
                servers.setdefault(host, []).append(_location(ingress, path, upstream))
    # ingress-nginx's catch-all server answers 404 (its default backend) for unknown hosts.
    servers.setdefault("_", []).append("location / {\n        return 404;\n    }")
    blocks = []
    for host, locations in sorted(servers.items()):
        default = " default_server" if host == "_" else ""
        blocks.append(
            f"server {{\n    listen 127.0.0.1:{port}{default};\n    server_name {host};\n"
            "    " + "\n    ".join(locations) + "\n}"
        )
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = " ".join(
        f"{kind}_temp_path {workdir}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"{user}daemon off;\npid {workdir}/nginx.pid;\nerror_log {workdir}/error.log;\n"
        "events {}\nhttp {\n"
        f"access_log off;\n{temp}\n" + "\n".join(blocks) + "\n}\n"
    )


class _Echo(BaseHTTPRequestHandler):
    """A backend that reports what reached it: its name, the path and the prefix header."""

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
        while True:
            try:
                urllib.request.urlopen(base + "/nexus-probe", timeout=1)
                break
            except urllib.error.HTTPError:
                break  # nginx answered (404): it is up
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("nginx did not start") from None
                time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


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


__all__ = ["backends", "free_port", "nginx", "nginx_config", "request"]
