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
    object_name,
    path_prefix,
    port_name,
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


@pytest.mark.parametrize("ending", ["\n", "\r", "\x00", "\t", "\u2028", "\u2029", "\x85"])
def test_every_grammar_is_a_full_match(ending: str) -> None:
    """ "$" with re.match also matches before a final newline; fullmatch does not."""
    checks = [
        lambda v: dns_label(v),
        lambda v: hostname(v),
        lambda v: object_name(v),
        lambda v: path_prefix(v),
        lambda v: port_name(v),
        lambda v: ip_address(v),
        lambda v: nginx_annotation("proxy-read-timeout", v),
        lambda v: nginx_annotation("proxy-body-size", v),
        lambda v: nginx_annotation("limit-rps", v),
        lambda v: nginx_annotation("whitelist-source-range", v),
    ]
    for check, good in zip(
        checks,
        [
            "cinder",
            "a.example.com",
            "tls",
            "share",
            "http",
            "10.0.0.1",
            "60",
            "10m",
            "5",
            "10.0.0.0/8",
        ],
        strict=True,
    ):
        check(good)
        with pytest.raises(InvalidValue):
            check(good + ending)


@pytest.mark.parametrize("value", ["192.0.2.1", "10.1", "a.b.123", "1"])
def test_hostname_refuses_an_all_digit_last_label(value: str) -> None:
    with pytest.raises(InvalidValue, match="last label is all digits"):
        hostname(value)
    assert object_name("tls.2026") == "tls.2026"  # object names may end in digits
    assert hostname("api2.example.com") == "api2.example.com"


def test_hostname_refuses_non_ascii_that_lowercases_to_ascii() -> None:
    assert "\u212a".lower() == "k"  # KELVIN SIGN
    with pytest.raises(InvalidValue, match="ASCII"):
        hostname("\u212aeystone.example.com")


def test_ipv4_mapped_ipv6_names_the_ipv4_address() -> None:
    with pytest.raises(InvalidValue, match=r"write the IPv4 address 192\.0\.2\.1 instead"):
        ip_address("::ffff:192.0.2.1")
    assert ip_address("64:ff9b::c000:201") == "64:ff9b::c000:201"  # NAT64 is a real IPv6


@pytest.mark.parametrize("value", ["fe80::1%eth0", "fe80::1%1", "10.0.0.1%eth0"])
def test_ip_address_refuses_zone_ids(value: str) -> None:
    with pytest.raises(InvalidValue):
        ip_address(value)


def test_shown_survives_huge_numbers_and_deep_nesting() -> None:
    assert "digits" in shown(10**5000)
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    assert len(shown(deep)) <= 60
    assert len(shown({"a": "x" * 1000})) <= 60
