"""CoreDNS zone files and Corefile, and dnsmasq config, from planned zones.

Every value in these files was validated by :mod:`nexus_gitops.validate.names` before it got
here; the templates print values as they are and escape nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

from nexus_gitops.model import Zone

if TYPE_CHECKING:
    import jinja2


@cache
def _environment() -> jinja2.Environment:
    # Imported here: jinja2 costs ~20 ms, and --help or plan-only commands never render DNS.
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("nexus_gitops.render", "templates"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - these are DNS files, not HTML
    )


def _relative(origin: str) -> object:
    def relative(name: str) -> str:
        return "@" if name == origin else name.removesuffix("." + origin)

    return relative


def zone_file(zone: Zone, marker: str) -> bytes:
    if zone.serial <= 0:
        raise ValueError(f"zone {zone.origin} has no serial; plan serials before rendering")
    text = (
        _environment()
        .get_template("zone.j2")
        .render(
            marker=marker,
            zone=zone,
            relative=_relative(zone.origin),
            rdtype=lambda address: "AAAA" if ":" in address else "A",
        )
    )
    return text.encode()


def corefile(zones: Sequence[Zone], directory: str, upstream: Sequence[str], marker: str) -> bytes:
    text = (
        _environment()
        .get_template("Corefile.j2")
        .render(marker=marker, zones=zones, directory=directory, upstream=upstream)
    )
    return text.encode()


def dnsmasq_conf(zones: Sequence[Zone], upstream: Sequence[str], marker: str) -> bytes:
    text = (
        _environment()
        .get_template("dnsmasq.conf.j2")
        .render(marker=marker, zones=zones, upstream=upstream)
    )
    return text.encode()
