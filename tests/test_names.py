"""The grammars every value must pass before it reaches an output file."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from nexus_gitops.config import parse_config
from nexus_gitops.errors import ConfigError
from nexus_gitops.model import BackendProtocol
from nexus_gitops.validate.names import (
    InvalidValue,
    boolean_text,
    cidr,
    dns_label,
    hostname,
    ip_address,
    object_name,
    path_prefix,
    port_name,
    port_number,
    shown,
    size_bytes,
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
        ("body_limit", "0", 0),
        ("body_limit", 0, 0),
        ("body_limit", "10g", 10 * 1024**3),
        ("body_limit", "512k", 512 * 1024),
        ("read_timeout", 3600, 3600),
        ("request_buffering", False, False),
        ("backend_protocol", "HTTPS", BackendProtocol.HTTPS),
        ("source_ranges", ["10.0.0.0/8", "2001:db8::/32"], ("10.0.0.0/8", "2001:db8::/32")),
    ],
)
def test_tuning_accepts(key: str, value: object, expected: object) -> None:
    assert parse_config({"routing": {"tuning": {key: value}}}).routing.tuning == {key: expected}


@pytest.mark.parametrize(
    ("routing", "message"),
    [
        ({"tuning": {"configuration_snippet": "return 200;"}}, "unknown key"),
        ({"tuning": {"body_limit": "1g; }"}}, "size"),
        ({"tuning": {"body_limit": "1g\n"}}, "size"),
        ({"tuning": {"read_timeout": "60s"}}, "seconds"),
        ({"tuning": {"read_timeout": True}}, "seconds"),
        ({"tuning": {"request_buffering": "off"}}, "true or false"),
        (
            {"tuning": {"backend_protocol": "FCGI"}},
            "must be HTTP, HTTPS, GRPC or GRPCS, not 'FCGI'",
        ),
        ({"tuning": {"source_ranges": ["10.0.0.1/8"]}}, "CIDR"),
        ({"tuning": {"source_ranges": ["10.0.0.0/8\n"]}}, "CIDR"),
        ({"annotations": {"server-snippet": "x"}}, "routing.tuning"),
        ({"service_types": {"image": {"proxy-body-size": "0"}}}, "unknown key"),
    ],
)
def test_tuning_refuses(routing: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config({"routing": routing})


@pytest.mark.parametrize("ending", ["\n", "\r", "\x00", "\t", "\u2028", "\u2029", "\x85"])
def test_every_grammar_is_a_full_match(ending: str) -> None:
    """ "$" with re.match also matches before a final newline; fullmatch does not."""
    checks: list[Callable[[str], object]] = [
        dns_label,
        hostname,
        object_name,
        path_prefix,
        port_name,
        ip_address,
        size_bytes,
        cidr,
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
            "10m",
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
