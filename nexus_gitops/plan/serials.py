"""SOA serials: ``YYYYMMDDnn``, changed only when the zone's bytes change, never decreasing.

CoreDNS's ``file`` plugin reloads a zone only when the serial changes, so a change without a new
serial is never served; a new serial without a change makes a commit every run. The decision is
made on bytes: the zone is rendered with the committed serial and compared with the committed
file, so anything that would change what is served (a record, the TTL, the glue, the text of an
address) gives a new serial, and nothing else does. The committed serial is read from the SOA
line this tool writes, without parsing the zone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Mapping

from nexus_gitops.model import Zone

_SOA = re.compile(rb"^@\tIN\tSOA\t[^\s]+ [^\s]+ \( ([1-9][0-9]{0,9}) ", re.MULTILINE)
MAX_SERIAL = 2**32 - 1


def committed_serial(content: bytes) -> int | None:
    """The serial of a zone file this tool wrote; None when there is none to read."""
    match = _SOA.search(content)
    if match is None:
        return None
    serial = int(match.group(1))
    return serial if serial <= MAX_SERIAL else None


def next_serial(previous: int | None, today: dt.date) -> int:
    """Today's first serial, or one past the previous one if that is later (99 changes in a day,
    or a clock that went back)."""
    base = int(today.strftime("%Y%m%d")) * 100
    return base if previous is None else max(base, previous + 1)


def assign_serials(
    zones: tuple[Zone, ...],
    committed: Mapping[str, bytes],
    render: Callable[[Zone], bytes],
    today: dt.date,
) -> tuple[Zone, ...]:
    """Give every zone its serial. ``committed`` maps zone file names to the committed bytes;
    ``render`` renders one zone exactly as it will be written."""
    planned = []
    for zone in zones:
        before = committed.get(zone.filename)
        serial = committed_serial(before) if before is not None else None
        if serial is not None and render(dataclasses.replace(zone, serial=serial)) == before:
            planned.append(dataclasses.replace(zone, serial=serial))
        else:
            planned.append(dataclasses.replace(zone, serial=next_serial(serial, today)))
    return tuple(planned)
