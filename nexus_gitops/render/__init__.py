"""Rendering: the desired state as a tree of files (relative path -> bytes).

The tree is what goes under ``--path`` in the GitOps repository::

    kustomization.yaml
    state.json                         # what was committed, for the next run
    ingress/<namespace>/<name>.yaml    # from the output dialect
    certificate/<namespace>/<name>.yaml
    coredns/Corefile
    coredns/db.<zone>
    dnsmasq/openstack.conf
    dns-server/<kind>.yaml             # the DNS servers: Namespace, Deployment, PDB, ...

Routes are rendered by an output :class:`Dialect` (today ingress-nginx; Gateway API next); DNS,
state and kustomization files are the same for every dialect.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from nexus_gitops.config import Config
from nexus_gitops.model import STATE_FILE, DesiredState, Route, Skip, Zone
from nexus_gitops.plan.changes import zone_records
from nexus_gitops.plan.digest import blob_id, files_digest
from nexus_gitops.plan.files import marker as owner_marker
from nexus_gitops.render.dns import corefile, dnsmasq_conf, zone_file
from nexus_gitops.render.dns_servers import (
    COREDNS_CONFIGMAP,
    DNSMASQ_CONFIGMAP,
    DNSMASQ_FILE,
    dns_server_files,
)
from nexus_gitops.render.ingress_nginx import IngressNginx
from nexus_gitops.render.state import state_file
from nexus_gitops.render.tls import MANAGED_BY
from nexus_gitops.render.yaml import dump

COREFILE = "coredns/Corefile"
DNSMASQ_CONF = f"dnsmasq/{DNSMASQ_FILE}"
RESOURCE_FOLDERS = ("ingress/", "certificate/", "dns-server/")


class Dialect(Protocol):
    """An output for routes: Kubernetes objects in one controller's vocabulary."""

    name: str

    def render(self, routes: Sequence[Route], config: Config, marker: str) -> dict[str, bytes]:
        """Relative path -> file, for objects listed as kustomize resources."""
        ...


DIALECTS: Mapping[str, Dialect] = {"ingress-nginx": IngressNginx()}


def zone_path(filename: str) -> str:
    return f"coredns/{filename}"


def render_zone(zone: Zone, owner: str) -> bytes:
    """One zone file exactly as :func:`render_tree` writes it (for deciding serials)."""
    return zone_file(zone, owner_marker(owner))


def render_tree(
    desired: DesiredState,
    config: Config,
    owner: str,
    conflicts: Sequence[Skip] = (),
    inputs: str | None = None,
) -> dict[str, bytes]:
    """Render every file. Serials must already be planned. ``conflicts`` and ``inputs`` are
    recorded in the state file so that a run with the same inputs can stop early."""
    marker = owner_marker(owner)
    tree = DIALECTS[config.routing.dialect].render(desired.routes, config, marker)
    if config.dns.enabled:
        for zone in desired.zones:
            tree[zone_path(zone.filename)] = zone_file(zone, marker)
        tree[COREFILE] = corefile(
            desired.zones, config.dns.coredns_dir, config.dns.upstream, marker
        )
        tree[DNSMASQ_CONF] = dnsmasq_conf(desired.zones, config.dns.upstream, marker)
        tree.update(dns_server_files(config, marker))
    tree["kustomization.yaml"] = dump(kustomization(tree, config), marker)
    files = files_digest({path: blob_id(content) for path, content in tree.items()})
    tree[STATE_FILE] = state_file(
        marker,
        owner,
        desired.routes,
        desired.holds,
        zone_records(desired.zones),
        conflicts,
        inputs,
        files,
    )
    return dict(sorted(tree.items()))


def kustomization(tree: Mapping[str, bytes], config: Config) -> dict[str, Any]:
    """Route objects as resources; DNS files as ConfigMaps for the DNS servers to mount.

    The CoreDNS ConfigMap keeps a stable name: CoreDNS reloads zone files and the Corefile in
    place. The dnsmasq ConfigMap gets kustomize's content-hash suffix, so a Deployment that
    mounts it (the generated one, in this same build) is rolled when it changes: dnsmasq does
    not re-read its config. ``output.labels`` and ``output.annotations`` go on every object
    through kustomize, ConfigMaps included; labels stay out of selectors and pod templates, so
    adding one never rolls pods or orphans a ReplicaSet.
    """
    document: dict[str, Any] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": sorted(path for path in tree if path.startswith(RESOURCE_FOLDERS)),
    }
    if config.dns.enabled:
        coredns_files = [COREFILE, *sorted(p for p in tree if p.startswith("coredns/db."))]
        document["configMapGenerator"] = [
            {
                "name": COREDNS_CONFIGMAP,
                "namespace": config.dns.namespace,
                "files": coredns_files,
                "options": {"disableNameSuffixHash": True, "labels": dict(MANAGED_BY)},
            },
            {
                "name": DNSMASQ_CONFIGMAP,
                "namespace": config.dns.namespace,
                "files": [DNSMASQ_CONF],
                "options": {"labels": dict(MANAGED_BY)},
            },
        ]
    if config.output.labels:
        document["labels"] = [
            {
                "pairs": dict(config.output.labels),
                "includeSelectors": False,
                "includeTemplates": False,
            }
        ]
    if config.output.annotations:
        document["commonAnnotations"] = dict(config.output.annotations)
    return document
