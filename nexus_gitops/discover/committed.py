"""The committed state, read back from ``state.json`` in the managed folder.

The repository is the operator's, so its state is trusted input; it is still read through the
same grammars as everything else, because a hand-edited or corrupted file must give a clear
error, not a crash or a route nobody asked for.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from nexus_gitops.errors import StateError
from nexus_gitops.model import (
    STATE_FILE,
    STATE_VERSION,
    Backend,
    BackendProtocol,
    Claim,
    CommittedState,
    Hold,
    HostRoute,
    PathRoute,
    Record,
    Route,
    Skip,
    Tuning,
)
from nexus_gitops.validate.names import (
    InvalidValue,
    cidr,
    dns_label,
    hostname,
    ip_address,
    path_prefix,
    port_number,
)

T = TypeVar("T")


def _field(obj: Mapping[str, Any], key: str, check: Callable[[Any], T]) -> T:
    if key not in obj:
        raise InvalidValue(f"missing {key!r}")
    return check(obj[key])


def _list(check: Callable[[Any], T]) -> Callable[[Any], tuple[T, ...]]:
    def checked(value: Any) -> tuple[T, ...]:
        if not isinstance(value, list):
            raise InvalidValue("must be a list")
        return tuple(check(item) for item in value)

    return checked


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 2**40:
        raise InvalidValue(f"{value!r} is not a whole number")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidValue(f"{value!r} is not true or false")
    return value


_TUNING: Mapping[str, Callable[[Any], Any]] = {
    "body_limit": _int,
    "request_buffering": _bool,
    "response_buffering": _bool,
    "read_timeout": _int,
    "send_timeout": _int,
    "connect_timeout": _int,
    "backend_protocol": BackendProtocol,
    "source_ranges": _list(cidr),
    "https_redirect": _bool,
    "rate_limit": _int,
    "connection_limit": _int,
}


def _tuning(value: Any) -> Tuning:
    if not isinstance(value, Mapping) or not set(value) <= set(_TUNING):
        raise InvalidValue("tuning has unknown fields")
    try:
        return Tuning(**{key: _TUNING[key](item) for key, item in value.items()})
    except ValueError as exc:
        raise InvalidValue(f"tuning: {exc}") from None


def _route(obj: Any) -> Route:
    if not isinstance(obj, Mapping):
        raise InvalidValue("a route is not an object")
    namespace = _field(obj, "namespace", lambda v: dns_label(v, "namespace"))
    backend = Backend(
        namespace,
        _field(obj, "service", lambda v: dns_label(v, "service")),
        _field(obj, "port", port_number),
    )
    name = _field(obj, "name", lambda v: dns_label(v, "route name"))
    service_type = _field(obj, "serviceType", lambda v: dns_label(v, "service type"))
    tuning = _tuning(obj.get("tuning", {}))
    kind = obj.get("kind")
    if kind == "path":
        return PathRoute(
            name,
            backend,
            service_type,
            prefix=_field(obj, "prefix", path_prefix),
            host=_field(obj, "host", hostname),
            catch_all=_field(obj, "catchAll", _bool),
            tuning=tuning,
        )
    if kind == "host":
        return HostRoute(
            name,
            backend,
            service_type,
            hosts=_field(obj, "hosts", _list(hostname)),
            dns_names=_field(obj, "dnsNames", _list(hostname)),
            tuning=tuning,
        )
    raise InvalidValue(f"route kind {kind!r} is not path or host")


def _hold(obj: Any) -> Hold:
    if not isinstance(obj, Mapping) or obj.get("kind") not in ("name", "path", "host"):
        raise InvalidValue("a hold is not a claim")
    claim = Claim(obj["kind"], str(obj.get("scope", "")), str(obj.get("value", "")))
    holder = obj.get("holder")
    if not isinstance(holder, str) or holder.count("/") != 1:
        raise InvalidValue("a hold has no holder")
    for part in holder.split("/"):
        dns_label(part, "holder")
    return Hold(claim, holder)


def _record(obj: Any) -> Record:
    if not isinstance(obj, Mapping):
        raise InvalidValue("a record is not an object")
    return Record(_field(obj, "name", hostname), _field(obj, "address", ip_address))


def _conflict(obj: Any) -> Skip:
    if not isinstance(obj, Mapping):
        raise InvalidValue("a conflict is not an object")
    service, reason = obj.get("service"), obj.get("reason")
    if not isinstance(service, str) or service.count("/") != 1:
        raise InvalidValue("a conflict has no service")
    for part in service.split("/"):
        dns_label(part, "conflict service")
    if not isinstance(reason, str) or not reason.isascii() or not reason.isprintable():
        raise InvalidValue("a conflict reason is not one printable line")
    return Skip(service, reason[:500], problem=True)


def _digest(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _DIGEST.fullmatch(value):
        raise InvalidValue("a digest is not 64 hex digits")
    return value


_DIGEST = re.compile(r"[0-9a-f]{64}")


def read_state(files: Mapping[str, bytes]) -> CommittedState:
    """The state in the managed folder's files; empty when there is none yet."""
    content = files.get(STATE_FILE)
    if content is None:
        return CommittedState()
    try:
        document = json.loads(content)
        if not isinstance(document, dict) or document.get("version") != STATE_VERSION:
            raise InvalidValue(f"not a version {STATE_VERSION} state file")
        owner = document.get("owner")
        return CommittedState(
            owner=owner if isinstance(owner, str) else None,
            routes=_list(_route)(document.get("routes", [])),
            holds=_list(_hold)(document.get("holds", [])),
            records=_list(_record)(document.get("records", [])),
            conflicts=_list(_conflict)(document.get("conflicts", [])),
            inputs=_digest(document.get("inputs")),
            files=_digest(document.get("files")),
        )
    except (ValueError, RecursionError) as exc:
        raise StateError(
            f"the committed {STATE_FILE} cannot be read: {' '.join(str(exc).split())[:200]}",
            hint="restore it from Git history, or delete it (the next run then has no "
            "incumbents: every claim is judged afresh)",
        ) from None
