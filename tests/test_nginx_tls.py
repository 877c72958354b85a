"""TLS in real nginx, translated as ingress-nginx translates our Ingresses (tests/nginx_harness.py).

The Ingresses under test all come from ``tls_ingresses(style)``. Today it builds them by hand in
the target shape; once the renderer writes that shape, make it return the rendered objects,
e.g. ``commands.render(config(proxy={"ssl": {"enabled": True, "secret_name": ...}},
routing={"style": style, "public_domain": "example.com"}), snapshot([...]), out, TODAY)`` and
read ``out/ingress/*.yaml`` back. Nothing else needs to change: the certificates are issued for
whatever Secrets and hosts the Ingresses' ``spec.tls`` name.

The target shape:

* path: each API's Ingress has the same regex path twice, under ``host: <path host>`` and
  host-less (so ``https://<lb-ip>/volumev3/v3`` still routes), and ``tls`` for the path host with
  one Secret shared by all path Ingresses.
* host: each API's Ingress has host rules ``<name>``, ``<name>.<ns>``,
  ``<name>.<ns>.svc.cluster.local`` and optionally a public name, and ``tls`` for the fully
  qualified ones only.
* both: both kinds side by side.
"""

from __future__ import annotations

import ssl
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import yaml

from nexus_gitops import commands
from tests import certs
from tests.conftest import OPTIONS, config, load_balancer, manifest, snapshot
from tests.nginx_harness import (
    Proxy,
    backend_names,
    http_request,
    https_request,
    nginx_config,
    serve,
)

pytestmark = pytest.mark.slow

NS = "openstack"
PATH_HOST = f"openstack.{NS}.svc.cluster.local"
PATH_SECRET = "nexus-path-host-tls"
LB_IP = "192.0.2.10"  # what a client that connects by address sends as Host
NGINX = "nginx.ingress.kubernetes.io/"

# service, port, path prefix, openstack-helm host name, public name
APIS = [
    ("keystone-api", 5000, "identity", "keystone", "identity.example.com"),
    ("cinder-api", 8776, "volumev3", "cinder", "block-storage.example.com"),
    ("glance-api", 9292, "image", "glance", None),
]
STYLES = ["path", "host", "both"]


def _ingress(name: str, annotations: dict[str, str], spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": name, "namespace": NS, "annotations": annotations},
        "spec": {"ingressClassName": "openstack-nginx", **spec},
    }


def _backend(service: str, port: int) -> dict[str, Any]:
    return {"service": {"name": service, "port": {"number": port}}}


def path_ingress(service: str, port: int, prefix: str, *, host_rule: bool = True) -> dict[str, Any]:
    """A path route. ``host_rule=False`` is today's shape: the host-less rule alone."""
    path = {
        "path": f"/{prefix}(/|$)(.*)",
        "pathType": "ImplementationSpecific",
        "backend": _backend(service, port),
    }
    rules: list[dict[str, Any]] = [{"host": PATH_HOST, "http": {"paths": [path]}}]
    rules = [*(rules if host_rule else []), {"http": {"paths": [path]}}]
    annotations = {
        NGINX + "use-regex": "true",
        NGINX + "rewrite-target": "/$2",
        NGINX + "x-forwarded-prefix": f"/{prefix}",
    }
    return _ingress(
        f"nexus-{service.split('-')[0]}-path",
        annotations,
        {"tls": [{"hosts": [PATH_HOST], "secretName": PATH_SECRET}], "rules": rules},
    )


def host_ingress(service: str, port: int, name: str, public: str | None) -> dict[str, Any]:
    fqdn = f"{name}.{NS}.svc.cluster.local"
    hosts = [name, f"{name}.{NS}", fqdn, *([public] if public else [])]
    return host_ingress_for(service, port, name, hosts, [fqdn, *([public] if public else [])])


def host_ingress_for(
    service: str, port: int, name: str, hosts: list[str], tls_hosts: list[str]
) -> dict[str, Any]:
    rules = [
        {"host": h, "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": b}]}}
        for h in hosts
        for b in [_backend(service, port)]
    ]
    tls = [{"hosts": tls_hosts, "secretName": f"nexus-{name}-host-tls"}]
    return _ingress(f"nexus-{name}-host", {}, {"tls": tls, "rules": rules})


def tls_ingresses(style: str) -> list[dict[str, Any]]:
    """THE Ingresses under test: what the renderer writes for three APIs with TLS from a
    cert-manager issuer (the Certificate objects are left out: the test CA plays the issuer)."""
    cfg = config(
        discovery={"public_service_name": "lb"},
        routing={"style": style, "public_domain": "example.com"},
        proxy={"ssl": {"enabled": True, "cluster_issuer": "test-ca"}},
    )
    source = snapshot(
        [
            load_balancer("lb", LB_IP),
            *(manifest(service, ports=[("http", port)]) for service, port, *_ in APIS),
        ]
    )
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch)
        commands.render(cfg, source, out, OPTIONS)
        documents = [yaml.safe_load(p.read_text()) for p in sorted(out.rglob("*.yaml"))]
    return [d for d in documents if d["kind"] == "Ingress"]


def test_the_rendered_ingresses_have_the_target_shape() -> None:
    """The hand-written target shape (kept for the negative controls) and the renderer agree on
    everything the TLS tests depend on."""
    rendered = {i["metadata"]["name"]: i for i in tls_ingresses("path")}
    for service, port, prefix, _, _ in APIS:
        target = path_ingress(service, port, prefix)
        got = rendered[target["metadata"]["name"]]
        assert got["spec"]["tls"] == target["spec"]["tls"]
        assert got["spec"]["rules"] == target["spec"]["rules"]


def todays_path_ingresses() -> list[dict[str, Any]]:
    """Path Ingresses as rendered before the fix: tls for the path host, but no rule for it."""
    return [path_ingress(s, port, prefix, host_rule=False) for s, port, prefix, _, _ in APIS]


def tls_hosts(ingresses: list[dict[str, Any]]) -> dict[str, str]:
    """Every host some Ingress lists in ``spec.tls``, with its Secret's name."""
    return {
        host: tls["secretName"]
        for ingress in ingresses
        for tls in ingress["spec"].get("tls", [])
        for host in tls["hosts"]
    }


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Proxy]]:
    """``proxy(style)``: nginx serving ``tls_ingresses(style)``, started once per style."""
    with ExitStack() as stack:
        running: dict[str, Proxy] = {}

        def get(style: str) -> Proxy:
            if style not in running:
                workdir = tmp_path_factory.mktemp(f"tls-{style}")
                running[style] = stack.enter_context(serve(tls_ingresses(style), workdir))
            return running[style]

        yield get


def issued(proxy: Proxy, secret: str) -> str:
    """The fingerprint of the certificate the test issued for ``secret``."""
    return certs.fingerprint(certs.load(proxy.secrets[secret].cert))


def echo(service: str, path: str, prefix: str | None, proto: str = "https") -> dict[str, Any]:
    return {"service": service, "path": path, "prefix": prefix, "received": 0, "proto": proto}


# (a) ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("style", ["path", "both"])
@pytest.mark.parametrize(
    ("path", "service", "upstream_path", "prefix"),
    [
        ("/identity/v3/auth/tokens", "keystone-api", "/v3/auth/tokens", "/identity"),
        ("/volumev3/v3/volumes/detail", "cinder-api", "/v3/volumes/detail", "/volumev3"),
        ("/image/v2/images", "glance-api", "/v2/images", "/image"),
    ],
)
def test_path_host_over_verified_https_reaches_the_api(
    proxy: Callable[[str], Proxy],
    style: str,
    path: str,
    service: str,
    upstream_path: str,
    prefix: str,
) -> None:
    p = proxy(style)
    reply = https_request(p.tls_port, path, sni=PATH_HOST, ca=p.ca)
    assert reply.status == 200
    assert reply.body == echo(service, upstream_path, prefix)
    assert reply.certificate is not None
    assert reply.certificate.subject_cn == PATH_SECRET
    assert reply.certificate.fingerprint == issued(p, PATH_SECRET)
    assert PATH_HOST in reply.certificate.dns_names


def test_path_routes_share_one_certificate(proxy: Callable[[str], Proxy]) -> None:
    p = proxy("path")
    seen = {
        https_request(p.tls_port, f"/{prefix}/", sni=PATH_HOST, ca=p.ca).certificate
        for _, _, prefix, _, _ in APIS
    }
    assert len(seen) == 1


# (b) ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("style", ["host", "both"])
@pytest.mark.parametrize("name", ["keystone.openstack.svc.cluster.local", "identity.example.com"])
def test_host_route_over_verified_https_gets_its_own_certificate(
    proxy: Callable[[str], Proxy], style: str, name: str
) -> None:
    p = proxy(style)
    reply = https_request(p.tls_port, "/v3/auth/tokens", sni=name, ca=p.ca)
    assert (reply.status, reply.body) == (200, echo("keystone-api", "/v3/auth/tokens", None))
    assert reply.certificate is not None
    assert reply.certificate.subject_cn == "nexus-keystone-host-tls"
    assert reply.certificate.fingerprint == issued(p, "nexus-keystone-host-tls")


# (c) ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("style", ["path", "both"])
def test_by_ip_without_sni_still_routes_with_the_fake_certificate(
    proxy: Callable[[str], Proxy], style: str
) -> None:
    """The catch-all rule keeps ``https://<lb-ip>/volumev3/v3`` working. Without SNI nginx can
    only offer the default server's certificate, the fake one, so this client must not verify
    (and no client that connects by address can verify against these certificates anyway)."""
    p = proxy(style)
    reply = https_request(p.tls_port, "/volumev3/v3/volumes", sni=None, ca=None, host=LB_IP)
    assert (reply.status, reply.body) == (200, echo("cinder-api", "/v3/volumes", "/volumev3"))
    assert reply.certificate is not None and reply.certificate.is_fake
    assert reply.certificate.dns_names == (certs.FAKE_SAN,)
    # No certificate is configured for an address, so plain HTTP to it is not redirected.
    plain = http_request(p.http_port, "/volumev3/v3/volumes", host=LB_IP)
    assert (plain.status, plain.body) == (
        200,
        echo("cinder-api", "/v3/volumes", "/volumev3", "http"),
    )


# (d) ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("style", STYLES)
def test_a_verifying_client_never_sees_the_fake_certificate(
    proxy: Callable[[str], Proxy], style: str
) -> None:
    """Every name listed in a ``tls`` section, on any path (routed or not), is served the
    certificate of the Secret that lists it, and it verifies. A 404 still comes over the right
    certificate: the path host's own server answers it, not the default server."""
    p = proxy(style)
    names = tls_hosts(tls_ingresses(style))
    assert (PATH_HOST in names) == (style != "host")
    for name, secret in names.items():
        for path in ["/", "/identity/v3", "/volumev3/v3", "/no-such-api/v1"]:
            reply = https_request(p.tls_port, path, sni=name, ca=p.ca)
            assert reply.certificate is not None, (name, path)
            assert not reply.certificate.is_fake, (name, path)
            assert reply.certificate.fingerprint == issued(p, secret), (name, path)


@pytest.mark.parametrize("style", ["path", "both"])
def test_plain_http_to_the_path_host_is_redirected_to_https(
    proxy: Callable[[str], Proxy], style: str
) -> None:
    """ingress-nginx's default ``ssl-redirect``: once the path host has a certificate, plain
    HTTP to it gets 308 (method and body kept) to the same URL over https. Catalog URLs on the
    path host should therefore be registered as https; ``http://<lb-ip>/...`` keeps working."""
    reply = http_request(proxy(style).http_port, "/identity/v3/auth/tokens?x=1", host=PATH_HOST)
    assert reply.status == 308
    assert reply.location == f"https://{PATH_HOST}/identity/v3/auth/tokens?x=1"


@pytest.mark.parametrize("name", ["keystone", "keystone.openstack"])
def test_host_style_short_names_keep_plain_http(proxy: Callable[[str], Proxy], name: str) -> None:
    """The in-cluster short names have no certificate (no CA signs ``keystone.openstack``).
    Sharing the route's Ingress, ingress-nginx would settle them on its fake certificate, count
    that as "configured" and redirect ``http://keystone.openstack/`` to an HTTPS that cannot
    verify. The renderer gives them an Ingress of their own with ``ssl-redirect: "false"``."""
    p = proxy("host")
    reply = http_request(p.http_port, "/v3", host=name)
    assert (reply.status, reply.body) == (200, echo("keystone-api", "/v3", None, "http"))


def test_short_names_on_the_tls_ingress_would_be_redirected(tmp_path: Path) -> None:
    """The negative control for the test above: today's host shape, short names and FQDNs on
    one Ingress with ``tls`` for the FQDNs only."""
    with serve([host_ingress("keystone-api", 5000, "keystone", None)], tmp_path) as p:
        reply = http_request(p.http_port, "/v3", host="keystone.openstack")
        with pytest.raises(ssl.SSLCertVerificationError):
            https_request(p.tls_port, "/v3", sni="keystone.openstack", ca=p.ca)
    assert (reply.status, reply.location) == (308, "https://keystone.openstack/v3")


# (e) ------------------------------------------------------------------------------------------


def test_negative_control_todays_path_shape_serves_the_fake_certificate(tmp_path: Path) -> None:
    """The bug being fixed. Path Ingresses with ``tls.hosts: [<path host>]`` but only a host-less
    rule give ingress-nginx no server for the path host: its ``tls`` entry is never used. A
    client asking for the path host lands in the default server, is offered the fake
    certificate, and verification fails, although routing itself works."""
    with serve(todays_path_ingresses(), tmp_path) as p:
        with pytest.raises(ssl.SSLCertVerificationError) as failure:
            https_request(p.tls_port, "/identity/v3/auth/tokens", sni=PATH_HOST, ca=p.ca)
        unverified = https_request(p.tls_port, "/identity/v3/auth/tokens", sni=PATH_HOST, ca=None)
        plain = http_request(p.http_port, "/identity/v3/auth/tokens", host=PATH_HOST)
    assert "self-signed certificate" in str(failure.value)
    assert unverified.certificate is not None
    assert unverified.certificate.is_fake
    assert unverified.certificate.fingerprint != issued(p, PATH_SECRET)
    assert unverified.body == echo("keystone-api", "/v3/auth/tokens", "/identity")
    # No certificate is configured for the path host either, so it is not even redirected.
    assert (plain.status, plain.body["service"]) == (200, "keystone-api")


# Attack: a host Ingress for the path host -----------------------------------------------------


def attacker(service: str = "zun-api") -> dict[str, Any]:
    """What host style would render for an untrusted Service that claimed the path host (e.g.
    with ``nexus-gitops.io/hosts``). The conflict check must never let this be rendered."""
    name = service.split("-")[0]
    return host_ingress_for(service, 9517, name, [PATH_HOST], [PATH_HOST])


def test_attack_host_rule_beats_host_less_path_rules(tmp_path: Path) -> None:
    """Harness fidelity: a request is routed by its Host header, so a host rule for the path
    host takes *every* path on that name from host-less path rules, /identity included, and
    over HTTPS it is offered the attacker's certificate, which verifies wherever the issuer
    signs what an Ingress lists (cert-manager does). Only by address is Keystone still reached."""
    with serve([*todays_path_ingresses(), attacker()], tmp_path) as p:
        stolen = https_request(p.tls_port, "/identity/v3/auth/tokens", sni=PATH_HOST, ca=p.ca)
        plain = http_request(p.http_port, "/identity/v3/auth/tokens", host=PATH_HOST)
        by_ip = http_request(p.http_port, "/identity/v3/auth/tokens", host=LB_IP)
    assert (stolen.status, stolen.body["service"], stolen.body["path"]) == (
        200,
        "zun-api",
        "/identity/v3/auth/tokens",
    )
    assert stolen.certificate is not None
    assert stolen.certificate.subject_cn == "nexus-zun-host-tls"
    assert plain.status == 308  # the attacker's certificate also switched on the redirect
    assert by_ip.body["service"] == "keystone-api"


@pytest.mark.parametrize(
    ("service", "certificate"),
    [
        ("zun-api", PATH_SECRET),  # nexus-zun-host sorts after every nexus-*-path
        ("aodh-api", "nexus-aodh-host-tls"),  # nexus-aodh-host sorts before them
    ],
)
def test_attack_on_the_target_shape(tmp_path: Path, service: str, certificate: str) -> None:
    """With the path routes on the path host too, the same attacker shares their server. The
    regex paths are longer, so ingress-nginx tries them first and /identity stays Keystone's.
    But the attacker's ``/`` takes every other path on the path host (404 before), and if its
    Ingress sorts first it chooses the certificate of the path host for everyone."""
    with serve([*tls_ingresses("path"), attacker(service)], tmp_path) as p:
        identity = https_request(p.tls_port, "/identity/v3/auth/tokens", sni=PATH_HOST, ca=p.ca)
        other = https_request(p.tls_port, "/no-such-api/v1", sni=PATH_HOST, ca=p.ca)
    assert identity.body == echo("keystone-api", "/v3/auth/tokens", "/identity")
    assert (other.status, other.body["service"]) == (200, service)
    for reply in (identity, other):
        assert reply.certificate is not None
        assert reply.certificate.subject_cn == certificate


# The harness itself -------------------------------------------------------------------------


def test_ssl_redirect_false_keeps_plain_http(tmp_path: Path) -> None:
    """The annotation that would keep the short host names on plain HTTP is translated."""
    keystone = host_ingress("keystone-api", 5000, "keystone", None)
    keystone["metadata"]["annotations"][NGINX + "ssl-redirect"] = "false"
    with serve([keystone], tmp_path) as p:
        short = http_request(p.http_port, "/v3", host="keystone")
        fqdn = http_request(p.http_port, "/v3", host="keystone.openstack.svc.cluster.local")
    assert (short.status, short.body) == (200, echo("keystone-api", "/v3", None, "http"))
    assert fqdn.status == 200


def test_a_secret_the_test_did_not_provide_fails_the_test(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="nexus-path-host-tls"):
        ingresses = tls_ingresses("path")
        ports = dict.fromkeys(backend_names(ingresses), 1)
        nginx_config(ingresses, ports, 2, tmp_path, tls_port=3, secrets={})
