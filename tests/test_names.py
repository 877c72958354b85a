"""The grammars every value must pass before it reaches an output file."""

from __future__ import annotations

import pytest

from nexus_gitops.validate.annotations import nginx_annotation
from nexus_gitops.validate.names import (
    InvalidValue,
    boolean_text,
    dns_label,
    hostname,
    ip_address,
    path_prefix,
    port_number,
    shown,
)

HOSTILE = [
    "volumev3\n$INCLUDE /etc/passwd",
    "a;b",
    "x } location / { return 200",
    "$INCLUDE",
    "a b",
    "../etc",
    "UPPER",
    "-leading",
    "trailing-",
    "",
    "a" * 64,
    "é",
    "a/b",
    "*",
    "(.*)",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_path_prefix_refuses_hostile_values(value: str) -> None:
    with pytest.raises(InvalidValue):
        path_prefix(value)


@pytest.mark.parametrize("value", [*HOSTILE, "a..b", "*.example.com", "a." * 127 + "a"])
def test_hostname_refuses_hostile_values(value: str) -> None:
    if value == "UPPER":
        assert hostname(value) == "upper"  # host names are case-insensitive: normalised
        return
    with pytest.raises(InvalidValue):
        hostname(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("keystone.openstack.svc.cluster.local", "keystone.openstack.svc.cluster.local"),
        ("Cinder.Example.COM", "cinder.example.com"),
        ("a" * 63 + ".example.com", "a" * 63 + ".example.com"),
    ],
)
def test_hostname_accepts_and_normalises(value: str, expected: str) -> None:
    assert hostname(value) == expected


def test_hostname_length_limits() -> None:
    with pytest.raises(InvalidValue):
        hostname("a" * 64 + ".example.com")  # label over 63
    name = ".".join(["a" * 61] * 4)  # 247 characters
    assert hostname(name) == name
    with pytest.raises(InvalidValue):
        hostname(name + ".abcdefg")  # 255 characters


@pytest.mark.parametrize("value", ["volumev3", "identity", "load-balancer", "v2"])
def test_path_prefix_accepts(value: str) -> None:
    assert path_prefix(value) == value


@pytest.mark.parametrize(
    ("value", "expected"), [("10.0.0.1", "10.0.0.1"), ("2001:DB8::1", "2001:db8::1")]
)
def test_ip_address_canonical(value: str, expected: str) -> None:
    assert ip_address(value) == expected


@pytest.mark.parametrize("value", ["10.0.0.256", "10.0.0.1\nserver=1.2.3.4", "host", 5, None])
def test_ip_address_refuses(value: object) -> None:
    with pytest.raises(InvalidValue):
        ip_address(value)


@pytest.mark.parametrize("value", [0, 65536, True, "80", -1])
def test_port_number_refuses(value: object) -> None:
    with pytest.raises(InvalidValue):
        port_number(value)


def test_boolean_text() -> None:
    assert boolean_text("true", "x") is True
    assert boolean_text("false", "x") is False
    for value in ("True", "yes", "1", ""):
        with pytest.raises(InvalidValue):
            boolean_text(value, "x")


def test_dns_label() -> None:
    assert dns_label("cinder-api") == "cinder-api"
    with pytest.raises(InvalidValue):
        dns_label("cinder.api")


def test_shown_escapes_newlines_and_cuts() -> None:
    text = shown("a\nb" + "x" * 100)
    assert "\n" not in text
    assert len(text) <= 60


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("proxy-body-size", "0", "0"),
        ("proxy-body-size", "10g", "10g"),
        ("nginx.ingress.kubernetes.io/proxy-read-timeout", 3600, "3600"),
        ("proxy-request-buffering", "off", "off"),
        ("whitelist-source-range", "10.0.0.0/8, 192.168.1.1", "10.0.0.0/8,192.168.1.1/32"),
    ],
)
def test_nginx_annotation_accepts(key: str, value: object, expected: str) -> None:
    full, checked = nginx_annotation(key, value)
    assert full.startswith("nginx.ingress.kubernetes.io/")
    assert checked == expected


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("configuration-snippet", "return 200;"),
        ("server-snippet", "x"),
        ("nginx.ingress.kubernetes.io/auth-snippet", "x"),
        ("rewrite-target", "/"),
        ("proxy-body-size", "1g; }"),
        ("proxy-read-timeout", "60s"),
        ("proxy-request-buffering", True),
        ("backend-protocol", "FCGI"),
    ],
)
def test_nginx_annotation_refuses(key: str, value: object) -> None:
    with pytest.raises(InvalidValue):
        nginx_annotation(key, value)
