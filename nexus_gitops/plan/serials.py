"""SOA serials: ``YYYYMMDDnn``, changed only when the zone's data changes, never decreasing.

CoreDNS's ``file`` plugin reloads a zone only when the serial changes, so a change without a new
serial is never served; a new serial without a change makes a commit every run. The previous
zone is read back from the committed file, so the serial survives across CI machines.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import dns.exception
import dns.name
import dns.rdatatype
import dns.zone

from nexus_gitops.model import Record, Zone

ADDRESS_TYPES = (dns.rdatatype.A, dns.rdatatype.AAAA)


def zone_from_text(text: str, origin: str) -> Zone | None:
    """Read a zone file nexus-gitops wrote back into the model; None when it cannot be read
    (the next serial then simply starts from today)."""
    try:
        zone = dns.zone.from_text(text, origin=origin, relativize=False, check_origin=True)
        apex = dns.name.from_text(origin)
        soa_set = zone.find_rdataset(apex, dns.rdatatype.SOA)
        ns_target = zone.find_rdataset(apex, dns.rdatatype.NS)[0].target
        glue = [
            rdata.address
            for rdtype in ADDRESS_TYPES
            for rdata in (zone.get_rdataset(ns_target, rdtype) or [])
        ]
    except (dns.exception.DNSException, KeyError, IndexError, AttributeError):
        return None
    records: list[Record] = []
    for name, rdataset in zone.iterate_rdatasets():
        if rdataset.rdtype in ADDRESS_TYPES and name != ns_target:
            text_name = name.to_text(omit_final_dot=True)
            records.extend(Record(text_name, rdata.address) for rdata in rdataset)
    soa = soa_set[0]
    return Zone(
        origin=origin,
        nameserver=ns_target.to_text(omit_final_dot=True),
        nameserver_address=sorted(glue)[0] if glue else "",
        records=tuple(sorted(records, key=lambda r: (r.name, r.address))),
        ttl=soa.minimum,
        serial=soa.serial,
    )


def next_serial(previous: Zone | None, desired: Zone, today: dt.date) -> int:
    """Keep the previous serial when nothing but the serial differs, else move it forward."""
    if previous is not None and dataclasses.replace(previous, serial=0) == desired:
        return previous.serial
    base = int(today.strftime("%Y%m%d")) * 100
    return max(base, previous.serial + 1) if previous is not None else base


def assign_serials(
    zones: tuple[Zone, ...], previous_texts: dict[str, str], today: dt.date
) -> tuple[Zone, ...]:
    """Give every zone its serial, reading the previous zone file by its file name."""
    planned = []
    for zone in zones:
        text = previous_texts.get(zone.filename)
        previous = zone_from_text(text, zone.origin) if text is not None else None
        planned.append(dataclasses.replace(zone, serial=next_serial(previous, zone, today)))
    return tuple(planned)
