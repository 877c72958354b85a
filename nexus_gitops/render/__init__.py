"""Rendering: the desired state as a tree of files (relative path -> bytes).

The tree is what goes under ``--path`` in the GitOps repository::

    kustomization.yaml
    ingress/<ingress-name>.yaml
    coredns/Corefile
    coredns/db.<zone>
    dnsmasq/openstack.conf
"""

from __future__ import annotations

from typing import Any

from nexus_gitops.config import Config
from nexus_gitops.model import DesiredState, Route
from nexus_gitops.render.dns import corefile, dnsmasq_conf, zone_file
from nexus_gitops.render.ingress import MANAGED_BY, ingress, ingress_name
from nexus_gitops.render.yaml import dump

COREFILE = "coredns/Corefile"
DNSMASQ_CONF = "dnsmasq/openstack.conf"


def zone_path(filename: str) -> str:
    return f"coredns/{filename}"


def ingress_path(route: Route) -> str:
    return f"ingress/{ingress_name(route)}.yaml"


def render_tree(desired: DesiredState, config: Config) -> dict[str, bytes]:
    """Render every file. Serials must already be planned."""
    tree: dict[str, bytes] = {}
    for route in desired.routes:
        tree[ingress_path(route)] = dump(ingress(route, config))
    if config.dns.enabled:
        for zone in desired.zones:
            tree[zone_path(zone.filename)] = zone_file(zone)
        tree[COREFILE] = corefile(desired.zones, config.dns.coredns_dir, config.dns.upstream)
        tree[DNSMASQ_CONF] = dnsmasq_conf(desired.zones, config.dns.upstream)
    tree["kustomization.yaml"] = dump(kustomization(tree, config))
    return dict(sorted(tree.items()))


def kustomization(tree: dict[str, bytes], config: Config) -> dict[str, Any]:
    """Ingresses as resources; DNS files as ConfigMaps for the DNS servers to mount.

    The CoreDNS ConfigMap keeps a stable name: CoreDNS reloads zone files and the Corefile in
    place. The dnsmasq ConfigMap gets kustomize's content-hash suffix, so a Deployment that
    mounts it (in an overlay) is rolled when it changes: dnsmasq does not re-read its config.
    """
    document: dict[str, Any] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": sorted(path for path in tree if path.startswith("ingress/")),
    }
    if config.dns.enabled:
        coredns_files = [COREFILE, *sorted(p for p in tree if p.startswith("coredns/db."))]
        document["configMapGenerator"] = [
            {
                "name": "nexus-coredns",
                "namespace": config.dns.namespace,
                "files": coredns_files,
                "options": {"disableNameSuffixHash": True, "labels": dict(MANAGED_BY)},
            },
            {
                "name": "nexus-dnsmasq",
                "namespace": config.dns.namespace,
                "files": [DNSMASQ_CONF],
                "options": {"labels": dict(MANAGED_BY)},
            },
        ]
    return document
