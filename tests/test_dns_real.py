"""The generated DNS files in the real programs: named-checkzone and a running dnsmasq."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rrset
import dns.zone
import pytest

from nexus_gitops import commands
from nexus_gitops.config import Config
from nexus_gitops.discover.snapshot import SnapshotSource
from tests.conftest import OPTIONS, config, load_balancer, manifest, snapshot
from tests.tools import free_port, require

INGRESS_IP = "172.18.30.166"


def _render(cfg: Config, source: SnapshotSource, out: Path) -> Path:
    commands.render(cfg, source, out, OPTIONS)
    return out


@pytest.fixture
def example_out(example_config: Config, example_source: SnapshotSource, tmp_path: Path) -> Path:
    return _render(example_config, example_source, tmp_path / "example")


@pytest.fixture
def wide_out(tmp_path: Path) -> Path:
    """Host and path style, a public zone, upstream servers and an extra namespace."""
    cfg = config(
        discovery={"public_service_name": "lb", "extra_namespaces": ["storage"]},
        routing={"style": "both", "public_domain": "cloud.example.com"},
        dns={"upstream": ["192.0.2.1", "2001:db8::1"]},
    )
    source = snapshot(
        [
            load_balancer("lb", INGRESS_IP),
            manifest("keystone-api", ports=[("ks-pub", 5000)]),
            manifest("cinder-api", ports=[("c-api", 8776)]),
            manifest("swift-proxy", namespace="storage", ports=[("http", 8080)]),
        ]
    )
    return _render(cfg, source, tmp_path / "wide")


def _check_zone(origin: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            require("named-checkzone"),
            "-k",
            "fail",
            "-m",
            "fail",
            "-M",
            "fail",
            "-n",
            "fail",
            "-S",
            "fail",
            origin,
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def test_example_zone_passes_named_checkzone(example_out: Path) -> None:
    zone = example_out / "coredns" / "db.openstack.svc.cluster.local"
    result = _check_zone("openstack.svc.cluster.local", zone)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "loaded serial 2026112200" in result.stdout
    parsed = dns.zone.from_text(zone.read_text(), origin="openstack.svc.cluster.local")
    rdataset = parsed.find_rdataset("openstack", dns.rdatatype.A)
    assert [r.address for r in rdataset] == [INGRESS_IP]


def test_every_zone_passes_named_checkzone(wide_out: Path) -> None:
    zones = sorted((wide_out / "coredns").glob("db.*"))
    assert [z.name for z in zones] == [
        "db.cloud.example.com",
        "db.openstack.svc.cluster.local",
        "db.storage.svc.cluster.local",
    ]
    for zone in zones:
        result = _check_zone(zone.name.removeprefix("db."), zone)
        assert result.returncode == 0, result.stdout + result.stderr


def test_named_checkzone_catches_a_broken_zone(example_out: Path, tmp_path: Path) -> None:
    broken = tmp_path / "db.broken"
    text = (example_out / "coredns" / "db.openstack.svc.cluster.local").read_text()
    broken.write_text(text.replace("ns\tIN\tA", "other\tIN\tA"))  # NS without glue
    assert _check_zone("openstack.svc.cluster.local", broken).returncode != 0


def test_corefile_serves_each_zone_from_its_file(wide_out: Path) -> None:
    corefile = (wide_out / "coredns" / "Corefile").read_text()
    for origin in ("cloud.example.com", "openstack.svc.cluster.local", "storage.svc.cluster.local"):
        assert f"{origin}:53 {{\n    errors\n    file /etc/coredns/db.{origin} {{" in corefile
    assert "forward . 192.0.2.1 2001:db8::1" in corefile
    directives = [line.strip() for line in corefile.splitlines() if not line.startswith("#")]
    assert directives.count("reload 30s") == 3  # each zone reloads when its serial changes
    assert directives.count("reload") == 1  # and the Corefile itself when it changes


class RecordingUpstream:
    """A tiny DNS server standing in for the upstream: it answers every A query with
    192.0.2.99 and remembers what it was asked, so a test can prove what was not forwarded."""

    def __init__(self) -> None:
        import socket

        self.port = free_port(socket.SOCK_DGRAM)
        self.queries: list[tuple[str, str]] = []
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", self.port))
        self._socket.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self._socket.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(data)
            question = query.question[0]
            self.queries.append((question.name.to_text(), dns.rdatatype.to_text(question.rdtype)))
            response = dns.message.make_response(query)
            if question.rdtype == dns.rdatatype.A:
                response.answer.append(
                    dns.rrset.from_text(question.name, 60, "IN", "A", "192.0.2.99")
                )
            self._socket.sendto(response.to_wire(), peer)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._socket.close()


@pytest.fixture
def upstream() -> Iterator[RecordingUpstream]:
    server = RecordingUpstream()
    yield server
    server.close()


def _dnsmasq(conf: Path, upstream_port: int) -> Iterator[int]:
    port = free_port()
    process = subprocess.Popen(
        [
            require("dnsmasq"),
            "--keep-in-foreground",
            f"--conf-file={conf}",
            f"--port={port}",
            "--listen-address=127.0.0.1",
            "--bind-interfaces",
            "--no-hosts",
            "--pid-file",
            "--no-resolv",
            f"--server=127.0.0.1#{upstream_port}",
            "--log-facility=-",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                # A name in a local zone: answered by dnsmasq itself, never forwarded.
                probe = dns.message.make_query("probe.openstack.svc.cluster.local", "A")
                dns.query.udp(probe, "127.0.0.1", port=port, timeout=0.3)
                break
            except (dns.exception.Timeout, ConnectionRefusedError):
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.communicate()[0] if process.poll() is not None else ""
                    pytest.fail(f"dnsmasq did not start: {output}")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def _ask(port: int, name: str, rdtype: str) -> dns.message.Message:
    return dns.query.udp(dns.message.make_query(name, rdtype), "127.0.0.1", port=port, timeout=3)


def _addresses(response: dns.message.Message) -> list[str]:
    return [rdata.address for rrset in response.answer for rdata in rrset]


def test_dnsmasq_answers_published_names(example_out: Path, upstream: RecordingUpstream) -> None:
    conf = example_out / "dnsmasq" / "openstack.conf"
    for port in _dnsmasq(conf, upstream.port):
        answer = _ask(port, "openstack.openstack.svc.cluster.local", "A")
        assert answer.rcode() == dns.rcode.NOERROR
        assert _addresses(answer) == [INGRESS_IP]

        aaaa = _ask(port, "openstack.openstack.svc.cluster.local", "AAAA")
        assert aaaa.rcode() == dns.rcode.NOERROR and not aaaa.answer

        unknown = _ask(port, "mariadb.openstack.svc.cluster.local", "A")
        assert unknown.rcode() == dns.rcode.NXDOMAIN

        outside = _ask(port, "example.org", "A")  # proves the upstream path works at all
        assert _addresses(outside) == ["192.0.2.99"]
    assert upstream.queries == [("example.org.", "A")]


def test_dnsmasq_serves_every_zone(wide_out: Path, upstream: RecordingUpstream) -> None:
    conf = wide_out / "dnsmasq" / "openstack.conf"
    text = conf.read_text()
    assert "no-resolv\nserver=192.0.2.1\nserver=2001:db8::1\n" in text
    # The test points dnsmasq at its own recording upstream instead of the configured one.
    test_conf = conf.with_name("test.conf")
    test_conf.write_text(text.split("no-resolv")[0])
    published = [
        "block-storage.cloud.example.com",
        "identity.cloud.example.com",
        "object-store.cloud.example.com",
        "cinder.openstack.svc.cluster.local",
        "keystone.openstack.svc.cluster.local",
        "openstack.openstack.svc.cluster.local",
        "swift.storage.svc.cluster.local",
    ]
    for port in _dnsmasq(test_conf, upstream.port):
        found = {name: _addresses(_ask(port, name, "A")) for name in published}
        missing = _ask(port, "nova.cloud.example.com", "A")
        short = _ask(port, "keystone.openstack", "A")  # short forms are Ingress hosts only
    assert found == {name: [INGRESS_IP] for name in published}
    assert missing.rcode() == dns.rcode.NXDOMAIN
    assert _addresses(short) == ["192.0.2.99"]
    assert upstream.queries == [("keystone.openstack.", "A")]
