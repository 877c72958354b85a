"""Strict grammars for the values that reach Ingress objects, zone files and dnsmasq config.

Service annotations are written by whoever may create a Service, so they are untrusted input.
Each function returns the normalised value or raises :class:`InvalidValue`; none of them tries to
clean a bad value up, because a cleaned-up hostile value is still hostile.
"""

from __future__ import annotations

import ipaddress
import re

_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_PREFIX = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_PORT_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$")

MAX_NAME = 253


class InvalidValue(ValueError):
    """A value does not match the grammar it must follow."""


def shown(value: object, limit: int = 60) -> str:
    """Render an untrusted value for an error message: quoted, escaped and cut short.

    ``repr`` turns newlines and control characters into escapes, so a hostile value cannot
    forge extra log lines in CI output.
    """
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def dns_label(value: object, what: str = "name") -> str:
    """An RFC 1123 label: lowercase letters, digits and '-', 1 to 63 characters."""
    if not isinstance(value, str) or not _LABEL.match(value):
        raise InvalidValue(
            f"{what} {shown(value)} is not an RFC 1123 label "
            "(lowercase letters, digits and '-', at most 63 characters)"
        )
    return value


def hostname(value: object, what: str = "hostname") -> str:
    """An RFC 1123 host name, lowercased, without a trailing dot; 253 characters at most.

    Wildcards are refused: a wildcard in a zone file or dnsmasq config would answer for names
    nobody asked to publish.
    """
    if not isinstance(value, str):
        raise InvalidValue(f"{what} {shown(value)} is not a string")
    name = value.lower()
    if not name or len(name) > MAX_NAME:
        raise InvalidValue(f"{what} {shown(value)} must be 1 to {MAX_NAME} characters")
    for label in name.split("."):
        if not _LABEL.match(label):
            raise InvalidValue(
                f"{what} {shown(value)} is not an RFC 1123 host name "
                "(dot-separated labels of lowercase letters, digits and '-', 63 characters each)"
            )
    return name


def path_prefix(value: object) -> str:
    """A route path prefix: one segment of lowercase letters, digits and '-'.

    The prefix is spliced into a regular expression (``/<prefix>(/|$)(.*)``) and into the
    X-Forwarded-Prefix header, so only characters that mean nothing in either are allowed.
    """
    if not isinstance(value, str) or not _PREFIX.match(value):
        raise InvalidValue(
            f"path prefix {shown(value)} must be lowercase letters, digits and '-' "
            "(no slashes), at most 63 characters"
        )
    return value


def ip_address(value: object, what: str = "address") -> str:
    """An IPv4 or IPv6 address in its canonical text form."""
    if not isinstance(value, str):
        raise InvalidValue(f"{what} {shown(value)} is not an IP address")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise InvalidValue(f"{what} {shown(value)} is not an IP address") from None


def port_number(value: object, what: str = "port") -> int:
    """A TCP port, 1 to 65535. Booleans are refused although Python counts them as ints."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise InvalidValue(f"{what} {shown(value)} must be a whole number from 1 to 65535")
    return value


def port_name(value: object) -> str:
    """A Kubernetes port name (IANA_SVC_NAME): 15 characters at most."""
    if not isinstance(value, str) or not _PORT_NAME.match(value):
        raise InvalidValue(f"port name {shown(value)} is not a valid Kubernetes port name")
    return value


def boolean_text(value: object, what: str) -> bool:
    """Annotation booleans are strings; only "true" and "false" are accepted."""
    if value == "true":
        return True
    if value == "false":
        return False
    raise InvalidValue(f'{what} must be "true" or "false", not {shown(value)}')


def subdomain_of(name: str, zone: str) -> bool:
    """Whether ``name`` is ``zone`` or lies under it (both already validated)."""
    return name == zone or name.endswith("." + zone)


_SIZE = re.compile(r"(0|[1-9][0-9]{0,8})([kKmMgG]?)")
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def size_bytes(value: object) -> int:
    """A body size limit: a whole number of bytes, or ``512k``, ``10m``, ``1g``; 0 is unlimited."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    match = _SIZE.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise InvalidValue(
            f"must be a size such as 0 (unlimited), 512k, 10m or 1g, not {shown(value)}"
        )
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


def cidr(value: object) -> str:
    """An IPv4 or IPv6 network in canonical form (``10.0.0.0/8``); host bits are refused."""
    if not isinstance(value, str) or not value.isascii() or not value.isprintable():
        raise InvalidValue(f"{shown(value)} is not a CIDR")
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError:
        raise InvalidValue(f"{shown(value)} is not a CIDR such as 10.0.0.0/8") from None
