"""Strict grammars for the values that reach Ingress objects, zone files and dnsmasq config.

Service annotations are written by whoever may create a Service, so they are untrusted input.
Each function returns the normalised value or raises :class:`InvalidValue`; none of them tries to
clean a bad value up, because a cleaned-up hostile value is still hostile.
"""

from __future__ import annotations

import ipaddress
import re
import reprlib

# Every grammar is used with fullmatch(): with match() and "$", "keystone\n" would pass, because
# "$" also matches before a final newline.
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_PREFIX = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_PORT_NAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?")
_SUBDOMAIN = re.compile(rf"{_LABEL.pattern}(?:\.{_LABEL.pattern})*")
"""Dot-separated RFC 1123 labels: the same as splitting on '.' and matching each label."""
_DIGITS = re.compile(r"[0-9]+")

MAX_NAME = 253
MAX_SHOWN_INT = 10**30
_REPR = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxstring = 60
_REPR.maxother = 60


class InvalidValue(ValueError):
    """A value does not match the grammar it must follow."""


def shown(value: object, limit: int = 60) -> str:
    """Render an untrusted value for an error message: quoted, escaped and cut short.

    ``repr`` turns newlines and control characters into escapes, so a hostile value cannot
    forge extra log lines in CI output.
    """
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= MAX_SHOWN_INT:
        # str() of an int over 4300 digits raises ValueError; the size is what matters anyway.
        return f"<a number of about {int(value.bit_length() * 0.30103) + 1} digits>"
    # reprlib stops at a few levels, so a value nested 100k deep cannot exhaust the stack.
    scalar = isinstance(value, str | int | float | bool | None)
    text = repr(value) if scalar else _REPR.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def dns_label(value: object, what: str = "name") -> str:
    """An RFC 1123 label: lowercase letters, digits and '-', 1 to 63 characters."""
    if not isinstance(value, str) or not _LABEL.fullmatch(value):
        raise InvalidValue(
            f"{what} {shown(value)} is not an RFC 1123 label "
            "(lowercase letters, digits and '-', at most 63 characters)"
        )
    return value


def object_name(value: object, what: str = "name") -> str:
    """A Kubernetes object name (RFC 1123 subdomain), lowercased: an IngressClass, a Secret, a
    cert-manager issuer. 253 characters at most.

    Non-ASCII is refused before lowercasing: "\u212a".lower() is the ASCII "k", so a Kelvin
    sign would otherwise pass as a different name than the one written.
    """
    if not isinstance(value, str):
        raise InvalidValue(f"{what} {shown(value)} is not a string")
    if not value.isascii():
        raise InvalidValue(f"{what} {shown(value)} must be ASCII")
    name = value.lower()
    if not name or len(name) > MAX_NAME:
        raise InvalidValue(f"{what} {shown(value)} must be 1 to {MAX_NAME} characters")
    if not _SUBDOMAIN.fullmatch(name):  # one match, not one per label: called per route
        raise InvalidValue(
            f"{what} {shown(value)} is not an RFC 1123 name "
            "(dot-separated labels of lowercase letters, digits and '-', 63 characters each)"
        )
    return name


def hostname(value: object, what: str = "hostname") -> str:
    """An RFC 1123 host name, lowercased, without a trailing dot; 253 characters at most.

    Wildcards are refused: a wildcard in a zone file or dnsmasq config would answer for names
    nobody asked to publish. A name whose last label is all digits is refused too: that is an
    IP address (``192.0.2.1``), which Kubernetes refuses as an Ingress host, and which as a host
    rule would take over ``http://<lb>/...`` routing.
    """
    name = object_name(value, what)
    if _DIGITS.fullmatch(name.rsplit(".", 1)[-1]):
        raise InvalidValue(
            f"{what} {shown(value)} is not a host name: its last label is all digits "
            "(an IP address is not a host name)"
        )
    return name


def path_prefix(value: object) -> str:
    """A route path prefix: one segment of lowercase letters, digits and '-'.

    The prefix is spliced into a regular expression (``/<prefix>(/|$)(.*)``) and into the
    X-Forwarded-Prefix header, so only characters that mean nothing in either are allowed.
    """
    if not isinstance(value, str) or not _PREFIX.fullmatch(value):
        raise InvalidValue(
            f"path prefix {shown(value)} must be lowercase letters, digits and '-' "
            "(no slashes), at most 63 characters"
        )
    return value


def ip_address(value: object, what: str = "address") -> str:
    """An IPv4 or IPv6 address in its canonical text form.

    Zone ids (``fe80::1%eth0``) are refused: they mean nothing in a DNS record or to another
    host. IPv4-mapped IPv6 addresses (``::ffff:192.0.2.1``) are refused with the IPv4 address to
    write instead: they are one address with two spellings, and made the DNS zone serial bump
    on every run.
    """
    if not isinstance(value, str) or "%" in value or not value.isascii():
        raise InvalidValue(f"{what} {shown(value)} is not an IP address")
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        raise InvalidValue(f"{what} {shown(value)} is not an IP address") from None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        raise InvalidValue(
            f"{what} {shown(value)} is an IPv4-mapped IPv6 address; "
            f"write the IPv4 address {address.ipv4_mapped} instead"
        )
    return str(address)


def port_number(value: object, what: str = "port") -> int:
    """A TCP port, 1 to 65535. Booleans are refused although Python counts them as ints."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise InvalidValue(f"{what} {shown(value)} must be a whole number from 1 to 65535")
    return value


def port_name(value: object) -> str:
    """A Kubernetes port name (IANA_SVC_NAME): 15 characters at most."""
    if not isinstance(value, str) or not _PORT_NAME.fullmatch(value):
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


_QUALIFIED_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?")
_LABEL_VALUE = re.compile(r"([A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?")
_ANNOTATION_VALUE = re.compile(r"[ -~]{0,4096}")


def label_key(value: object, what: str = "label key") -> str:
    """A Kubernetes label or annotation key: an optional DNS-subdomain prefix and ``/``, then a
    name of 63 characters at most (letters, digits, ``-``, ``_``, ``.``; alphanumeric at both
    ends), as the API server checks it."""
    if not isinstance(value, str) or not value.isascii():
        raise InvalidValue(f"{what} {shown(value)} is not a Kubernetes label key")
    prefix, slash, name = value.rpartition("/")
    if slash:
        try:
            object_name(prefix, "prefix")
        except InvalidValue:
            raise InvalidValue(
                f"{what} {shown(value)}: the prefix before '/' must be a lowercase DNS name"
            ) from None
        if prefix != prefix.lower():
            raise InvalidValue(f"{what} {shown(value)}: the prefix must be lowercase")
    if not _QUALIFIED_NAME.fullmatch(name):
        raise InvalidValue(
            f"{what} {shown(value)} is not a Kubernetes label key (letters, digits, '-', '_' "
            "and '.', at most 63 characters, alphanumeric at both ends, after an optional "
            "'prefix/')"
        )
    return value


def label_value(value: object, what: str = "label value") -> str:
    """A Kubernetes label value: empty, or 63 characters at most of letters, digits, ``-``,
    ``_`` and ``.``, alphanumeric at both ends."""
    if not isinstance(value, str) or not _LABEL_VALUE.fullmatch(value):
        raise InvalidValue(
            f"{what} {shown(value)} is not a Kubernetes label value (letters, digits, '-', '_' "
            "and '.', at most 63 characters, alphanumeric at both ends)"
        )
    return value


def annotation_value(value: object, what: str = "annotation value") -> str:
    """An annotation value: printable ASCII, 4096 characters at most. Argo CD's sync waves
    (``"-1"``) and sync options (``Prune=false``) are not label values, so annotations get
    this wider grammar; it still holds nothing that ends a line or needs escaping in YAML."""
    if not isinstance(value, str) or not _ANNOTATION_VALUE.fullmatch(value):
        raise InvalidValue(
            f"{what} {shown(value)} must be printable ASCII, at most 4096 characters"
        )
    return value


_IMAGE_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE = re.compile(
    rf"(?:(?P<domain>[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*"
    rf"[A-Za-z0-9])?)*(?::[0-9]{{1,5}})?)/)?{_IMAGE_COMPONENT}(?:/{_IMAGE_COMPONENT})*"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?"
)


def image_reference(value: object, what: str = "image") -> str:
    """A container image reference with a pinned tag or digest (the distribution reference
    grammar). ``latest`` and a missing tag are refused: the DNS servers must not change
    version because a registry moved a tag."""
    if not isinstance(value, str) or len(value) > 255:
        raise InvalidValue(f"{what} {shown(value)} is not an image reference")
    match = _IMAGE.fullmatch(value)
    if match is None:
        raise InvalidValue(
            f"{what} {shown(value)} is not an image reference such as "
            "registry.k8s.io/coredns/coredns:v1.12.1"
        )
    if match["digest"] is None and match["tag"] in (None, "latest"):
        raise InvalidValue(f"{what} {shown(value)} must be pinned by a tag (not latest) or digest")
    return value


_QUANTITY = re.compile(r"(?:[0-9]{1,9}(?:\.[0-9]{1,3})?)(?:m|k|M|G|T|Ki|Mi|Gi|Ti)?")


def quantity(value: object, what: str = "quantity") -> str:
    """A Kubernetes resource quantity as people write them (``100m``, ``0.5``, ``70Mi``,
    ``1G``); exponents and signs are refused. A bare number is accepted as a YAML integer."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not _QUANTITY.fullmatch(text):
        raise InvalidValue(f"{what} {shown(value)} is not a quantity such as 100m, 0.5 or 70Mi")
    return text
