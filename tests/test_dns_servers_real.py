"""The DNS server workloads in the generated folder, run for real: BIND ``named`` serves the zones
the generated Corefile names, and dnsmasq runs with the exact command line and mounts of the
generated Deployment. Both are driven from a CLI render of the bundled example, so the tests follow
what an operator commits rather than what a unit test builds."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.zone
import pytest
import yaml

from tests.conftest import run_cli
from tests.test_dns_real import RecordingUpstream
from tests.tools import free_port, require

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_SOURCE = ROOT / "examples" / "openstack-helm-services.yaml"
EXAMPLE_CONFIG = ROOT / "examples" / "nexus-gitops.yaml"


def _render(out: Path, config: Path = EXAMPLE_CONFIG) -> Path:
    result = run_cli(
        "render", "--source", str(EXAMPLE_SOURCE), "--config", str(config), "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    return out


def _deployment(out: Path) -> dict[str, Any]:
    loaded = yaml.safe_load((out / "dns-server" / "deployment.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def _configmap_files(out: Path, name: str) -> dict[str, Path]:
    """The keys of a configMapGenerator ConfigMap (file basenames, as kustomize names them) and
    the rendered files behind them: what kubelet would put in the mounted directory."""
    kustomization = yaml.safe_load((out / "kustomization.yaml").read_text())
    (generator,) = [g for g in kustomization["configMapGenerator"] if g["name"] == name]
    return {Path(f).name: out / f for f in generator["files"]}


def _mount(out: Path, deployment: dict[str, Any], into: Path) -> dict[str, Path]:
    """Copy each ConfigMap volume the container mounts into a directory under ``into``, the way
    kubelet would project it; returns the container's mount path -> the local directory."""
    spec = deployment["spec"]["template"]["spec"]
    volumes = {v["name"]: v["configMap"]["name"] for v in spec["volumes"]}
    (container,) = spec["containers"]
    mounts: dict[str, Path] = {}
    for index, mount in enumerate(container["volumeMounts"]):
        local = into / f"mount{index}"
        local.mkdir(parents=True)
        for key, source in _configmap_files(out, volumes[mount["name"]]).items():
            shutil.copyfile(source, local / key)
        mounts[mount["mountPath"]] = local
    return mounts


def _zone_records(zone_file: Path, origin: str) -> dns.zone.Zone:
    return dns.zone.from_text(zone_file.read_text(), origin=origin, relativize=False)


def _published(zone: dns.zone.Zone) -> dict[str, list[str]]:
    """Every A record of the rendered zone: what the server must answer."""
    return {
        name.to_text(): sorted(r.address for r in rdataset)
        for name, rdataset in zone.iterate_rdatasets(dns.rdatatype.A)
    }


def _ask(port: int, name: str, rdtype: str) -> dns.message.Message:
    return dns.query.udp(dns.message.make_query(name, rdtype), "127.0.0.1", port=port, timeout=3)


def _addresses(response: dns.message.Message) -> list[str]:
    return sorted(rdata.address for rrset in response.answer for rdata in rrset)


def _wait_until_answering(process: subprocess.Popen[str], port: int, name: str, what: str) -> None:
    deadline = time.monotonic() + 15
    while True:
        try:
            _ask(port, name, "SOA")
            return
        except (dns.exception.Timeout, ConnectionRefusedError):
            if process.poll() is not None or time.monotonic() > deadline:
                if process.poll() is None:
                    process.terminate()
                output = process.communicate(timeout=10)[0]
                pytest.fail(f"{what} did not start: {output}")


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.wait(timeout=10)


# --- BIND named serving the zones of the generated Corefile ----------------------------------


def _corefile_zones(corefile: str) -> dict[str, str]:
    """origin -> zone file path in the container, from each server block's ``file`` line, so the
    test serves exactly what CoreDNS would."""
    zones: dict[str, str] = {}
    origin = None
    for line in corefile.splitlines():
        block = re.fullmatch(r"(\S+):53 \{", line)
        if block:
            origin = block.group(1)
        served = re.fullmatch(r"\s+file (\S+)(?: \{)?", line)
        if served and origin is not None:
            zones[origin] = served.group(1)
    return zones


@pytest.fixture
def readable_tmp() -> Iterator[Path]:
    """named's working directory. pytest's tmp_path is private to the user running the tests;
    when that is root, named drops to ``nobody``, which must read the files and (named insists)
    write the directory, so it owns it."""
    path = Path(tempfile.mkdtemp(prefix="nexus-named-"))
    path.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(path, "nobody")
    yield path
    shutil.rmtree(path)


def _named(conf_dir: Path, zones: dict[str, Path]) -> Iterator[int]:
    port = free_port()
    zone_blocks = "".join(
        f'zone "{origin}" {{ type primary; file "{path}"; }};\n' for origin, path in zones.items()
    )
    conf = conf_dir / "named.conf"
    conf.write_text(
        "options {\n"
        f'    directory "{conf_dir}";\n'
        f"    listen-on port {port} {{ 127.0.0.1; }};\n"
        "    listen-on-v6 { none; };\n"
        "    pid-file none;\n"
        "    recursion no;\n"
        "    dnssec-validation no;\n"
        "};\n"
        "controls { };\n" + zone_blocks
    )
    for path in (conf, *zones.values()):
        if path.exists():  # a missing zone file is named-checkconf's to report
            path.chmod(0o644)
    command = [require("named"), "-g", "-4", "-n", "1", "-c", str(conf)]
    if os.geteuid() == 0:
        command += ["-u", "nobody"]  # never serve as root, even when the tests run as root
    check = subprocess.run(
        [require("named-checkconf"), "-z", str(conf)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_until_answering(process, port, next(iter(zones)), "named")
        yield port
    finally:
        _stop(process)


def test_named_serves_the_zones_of_the_generated_corefile(
    tmp_path: Path, readable_tmp: Path
) -> None:
    out = _render(tmp_path / "out")
    deployment = _deployment(out)
    assert deployment["spec"]["template"]["spec"]["containers"][0]["name"] == "coredns"
    mounts = _mount(out, deployment, readable_tmp)
    ((mount_path, local),) = mounts.items()
    corefile = (local / "Corefile").read_text()
    served = _corefile_zones(corefile)
    assert served == {"openstack.svc.cluster.local": f"{mount_path}/db.openstack.svc.cluster.local"}
    # The zone path CoreDNS opens, rewritten from the container's mount path to the local copy.
    zones = {origin: local / Path(path).relative_to(mount_path) for origin, path in served.items()}

    expected = {
        origin: _zone_records(out / "coredns" / f"db.{origin}", origin) for origin in served
    }
    for port in _named(readable_tmp, zones):
        for origin, zone in expected.items():
            published = _published(zone)
            assert f"openstack.{origin}." in published
            for name, addresses in published.items():
                answer = _ask(port, name, "A")
                assert answer.rcode() == dns.rcode.NOERROR, name
                assert answer.flags & dns.flags.AA, name  # authoritative, not a referral
                assert _addresses(answer) == addresses, name
            soa = _ask(port, origin, "SOA")
            (served_soa,) = [r for rrset in soa.answer for r in rrset]
            assert served_soa.serial == zone.get_soa().serial
            missing = _ask(port, f"mariadb.{origin}", "A")
            assert missing.rcode() == dns.rcode.NXDOMAIN


# --- dnsmasq run exactly as the generated Deployment runs it ---------------------------------


@pytest.fixture
def upstream() -> Iterator[RecordingUpstream]:
    server = RecordingUpstream()
    yield server
    server.close()


def _dnsmasq_config(tmp_path: Path) -> Path:
    """The bundled example config with ``dns.server: dnsmasq``: nothing else changes."""
    config = yaml.safe_load(EXAMPLE_CONFIG.read_text())
    config["dns"]["server"] = "dnsmasq"
    copy = tmp_path / "nexus-gitops.yaml"
    copy.write_text(yaml.safe_dump(config))
    return copy


def _container_argv(deployment: dict[str, Any], mounts: dict[str, Path], port: int) -> list[str]:
    """The Deployment's command and args with only what a test process must change:

    - the program name resolves to the installed dnsmasq binary (the image's PATH lookup);
    - each mount path prefix points at the local copy of its ConfigMap;
    - ``--port=53`` becomes a free high port (53 needs privileges; the Service maps 53 anyway);
    - ``--no-resolv`` and ``--server`` to the recording upstream are added: in the pod, with
      ``dnsPolicy: Default`` and no ``dns.upstream``, dnsmasq forwards to the node's resolvers from
      /etc/resolv.conf, which the test replaces by a server it can watch.
    """
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    argv: list[str] = [*container["command"], *container["args"]]
    command, *args = argv
    assert command == "dnsmasq"
    rewritten = [require("dnsmasq")]
    for arg in args:
        if arg == "--port=53":
            arg = f"--port={port}"
        for mount_path, local in mounts.items():
            arg = arg.replace(f"={mount_path}/", f"={local}/")
        rewritten.append(arg)
    assert f"--port={port}" in rewritten
    return rewritten


def test_dnsmasq_runs_as_the_deployment_runs_it(
    tmp_path: Path, upstream: RecordingUpstream
) -> None:
    out = _render(tmp_path / "out", _dnsmasq_config(tmp_path))
    deployment = _deployment(out)
    mounts = _mount(out, deployment, tmp_path)
    port = free_port()
    argv = _container_argv(deployment, mounts, port)
    # The flags as generated; the conf file path is left to the running dnsmasq to prove.
    assert argv[1:5] == ["--keep-in-foreground", "--log-facility=-", "--pid-file=", "--no-hosts"]
    argv += ["--no-resolv", f"--server=127.0.0.1#{upstream.port}"]
    origin = "openstack.svc.cluster.local"
    published = _published(_zone_records(out / "coredns" / f"db.{origin}", origin))
    published.pop(f"ns.{origin}.")  # NS glue is for the CoreDNS zone; dnsmasq has no NS record
    assert published == {f"openstack.{origin}.": ["172.18.30.166"]}

    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_until_answering(process, port, f"probe.{origin}", "dnsmasq")
        found = {name: _addresses(_ask(port, name, "A")) for name in published}
        missing = _ask(port, f"mariadb.{origin}", "A")
        aaaa = _ask(port, f"openstack.{origin}", "AAAA")
        outside = _ask(port, "example.org", "A")
    finally:
        _stop(process)
    assert found == published
    assert missing.rcode() == dns.rcode.NXDOMAIN
    assert aaaa.rcode() == dns.rcode.NOERROR and not aaaa.answer
    assert _addresses(outside) == ["192.0.2.99"]  # the upstream path works at all
    # Nothing inside the zone reached the upstream, only the outside name.
    assert upstream.queries == [("example.org.", "A")]
