"""The ingress-nginx annotations nexus-gitops may write, each with its value grammar.

Only these keys are accepted from configuration; anything else, and every ``*-snippet`` key in
particular, is refused. Snippet annotations inject raw nginx configuration, which is how
CVE-2021-25742 and CVE-2025-1974 ("IngressNightmare") turned annotations into code execution.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping

from nexus_gitops.validate.names import InvalidValue, shown

NGINX_PREFIX = "nginx.ingress.kubernetes.io/"

# Used with fullmatch(): "$" would also match before a final newline ("60\n").
_SIZE = re.compile(r"0|[1-9][0-9]{0,8}[kKmMgG]?")
_SECONDS = re.compile(r"[1-9][0-9]{0,5}")
_COUNT = re.compile(r"[1-9][0-9]{0,6}")
MAX_NUMBER = 10**12


def _matching(pattern: re.Pattern[str], meaning: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise InvalidValue(f"must be {meaning}, not {shown(value)}")
        return value

    return check


def _one_of(*choices: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in choices:
            raise InvalidValue(f"must be one of {', '.join(choices)}, not {shown(value)}")
        return value

    return check


def _cidrs(value: str) -> str:
    """Comma-separated CIDRs, written back canonically.

    Only spaces are stripped, not every whitespace character: a newline or tab is refused like
    anywhere else, not quietly cleaned up. Zone ids (``%eth0``) mean nothing to nginx.
    """
    parts = [part.strip(" ") for part in value.split(",")]
    try:
        if any("%" in part or not part.isascii() for part in parts):
            raise ValueError(value)
        return ",".join(str(ipaddress.ip_network(part, strict=False)) for part in parts)
    except ValueError:
        raise InvalidValue(f"must be comma-separated CIDRs, not {shown(value)}") from None


ALLOWED: Mapping[str, Callable[[str], str]] = {
    "proxy-body-size": _matching(_SIZE, "a size such as 0 (unlimited), 512k, 10m or 1g"),
    "proxy-request-buffering": _one_of("on", "off"),
    "proxy-buffering": _one_of("on", "off"),
    "proxy-read-timeout": _matching(_SECONDS, "a number of seconds"),
    "proxy-send-timeout": _matching(_SECONDS, "a number of seconds"),
    "proxy-connect-timeout": _matching(_SECONDS, "a number of seconds"),
    "ssl-redirect": _one_of("true", "false"),
    "force-ssl-redirect": _one_of("true", "false"),
    "backend-protocol": _one_of("HTTP", "HTTPS", "GRPC", "GRPCS"),
    "whitelist-source-range": _cidrs,
    "limit-rps": _matching(_COUNT, "a whole number"),
    "limit-connections": _matching(_COUNT, "a whole number"),
}


def nginx_annotation_key(key: object) -> str:
    """Check a tuning annotation name given by its short name; returns the full key."""
    if not isinstance(key, str):
        raise InvalidValue(f"annotation name {shown(key)} is not a string")
    short = key.removeprefix(NGINX_PREFIX)
    if "snippet" in short:
        raise InvalidValue(
            f"annotation {shown(key)} is refused: snippet annotations inject raw nginx "
            "configuration and are never generated"
        )
    if short not in ALLOWED:
        raise InvalidValue(
            f"annotation {shown(key)} is not supported; supported: {', '.join(sorted(ALLOWED))}"
        )
    return NGINX_PREFIX + short


def nginx_annotation(key: object, value: object) -> tuple[str, str]:
    """Check one tuning annotation (``proxy-body-size: 0``).

    Returns the full annotation key and the value as it will be written.
    """
    full = nginx_annotation_key(key)
    short = full.removeprefix(NGINX_PREFIX)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidValue(f"annotation {short} must be a string, not {shown(value)}")
    if isinstance(value, int) and not 0 <= value < MAX_NUMBER:
        # str() of an int over 4300 digits raises ValueError; no annotation needs such a number.
        raise InvalidValue(f"annotation {short} {shown(value)} is out of range")
    try:
        return full, ALLOWED[short](str(value))
    except InvalidValue as exc:
        raise InvalidValue(f"annotation {short} {exc}") from None
