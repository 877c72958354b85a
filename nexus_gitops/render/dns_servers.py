"""The workloads that serve the DNS files: Namespace, Deployment, PodDisruptionBudget, Service
and NetworkPolicy of the DNS servers, so one ``kubectl apply -k`` of the folder gives DNS that
answers.

Only a renderer: every value comes from the config (checked by its full-match grammar in
:mod:`nexus_gitops.config`) or is a constant here. How changes reach running servers:

* CoreDNS mounts the ``nexus-coredns`` ConfigMap (a stable name). kubelet refreshes the mounted
  files within its sync period (about a minute); the ``file`` plugin re-reads a zone whose
  serial changed and ``reload`` re-reads the Corefile, each within 30 s. No pod restarts.
* dnsmasq reads its config only at start, so its ConfigMap name carries kustomize's content
  hash. The Deployment refers to ``nexus-dnsmasq`` in the same kustomize build, which rewrites
  the reference to the hashed name: a changed config is a new pod template, and the pods roll.
"""

from __future__ import annotations

from typing import Any

from nexus_gitops.config import AddressField, Config, DnsServer, ServiceType
from nexus_gitops.render.tls import MANAGED_BY
from nexus_gitops.render.yaml import dump

NAME = "nexus-dns"
COREDNS_CONFIGMAP = "nexus-coredns"
DNSMASQ_CONFIGMAP = "nexus-dnsmasq"
DNSMASQ_DIR = "/etc/dnsmasq"
DNSMASQ_FILE = "openstack.conf"
HEALTH_PORT = 8080
READY_PORT = 8181
USER_ID = 65532
FOLDER = "dns-server/"
METALLB_ADDRESS = "metallb.io/loadBalancerIPs"
"""MetalLB's current annotation (``metallb.universe.tf/`` is the deprecated spelling)."""

SELECTOR = {"app.kubernetes.io/name": NAME}
LABELS = {**SELECTOR, "app.kubernetes.io/component": "dns-server", **MANAGED_BY}


def dnsmasq_args(port: int = 53, directory: str = DNSMASQ_DIR) -> list[str]:
    """The dnsmasq command line of the container. The tests run a real dnsmasq with exactly
    these flags, the directory moved to a temporary root and the port to a free one.

    In the foreground, logging to stderr, no pid file (the root filesystem is read-only), no
    ``/etc/hosts`` (the pod's own names must not be served), no default ``/etc/dnsmasq.conf``.
    """
    return [
        "--keep-in-foreground",
        "--log-facility=-",
        "--pid-file=",
        "--no-hosts",
        f"--port={port}",
        f"--conf-file={directory}/{DNSMASQ_FILE}",
    ]


def _metadata(config: Config, name: str = NAME) -> dict[str, Any]:
    return {"name": name, "namespace": config.dns.namespace, "labels": dict(LABELS)}


def _dns_ports(protocol_key: str) -> list[dict[str, Any]]:
    return [
        {"name": "dns", protocol_key: 53, "protocol": "UDP"},
        {"name": "dns-tcp", protocol_key: 53, "protocol": "TCP"},
    ]


def _resources(config: Config) -> dict[str, Any]:
    wanted = config.dns.resources
    requests = {
        k: v for k, v in (("cpu", wanted.requests_cpu), ("memory", wanted.requests_memory)) if v
    }
    limits = {k: v for k, v in (("cpu", wanted.limits_cpu), ("memory", wanted.limits_memory)) if v}
    return {key: value for key, value in (("requests", requests), ("limits", limits)) if value}


def _container(config: Config) -> tuple[dict[str, Any], dict[str, Any]]:
    """The server container and the volume it mounts."""
    security = {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]},
    }
    common = {"imagePullPolicy": "IfNotPresent"}
    if config.dns.server is DnsServer.COREDNS:
        container = {
            "name": "coredns",
            "image": config.dns.images.coredns,
            **common,
            "args": ["-conf", f"{config.dns.coredns_dir}/Corefile"],
            "ports": [
                *_dns_ports("containerPort"),
                {"name": "health", "containerPort": HEALTH_PORT, "protocol": "TCP"},
                {"name": "ready", "containerPort": READY_PORT, "protocol": "TCP"},
            ],
            "livenessProbe": _probe({"httpGet": {"path": "/health", "port": "health"}}, 5),
            "readinessProbe": _probe({"httpGet": {"path": "/ready", "port": "ready"}}, 3),
            "resources": _resources(config),
            "securityContext": security,
            "volumeMounts": [
                {"name": "config", "mountPath": config.dns.coredns_dir, "readOnly": True}
            ],
        }
        volume = {"name": "config", "configMap": {"name": COREDNS_CONFIGMAP}}
        return container, volume
    container = {
        "name": "dnsmasq",
        "image": config.dns.images.dnsmasq,
        **common,
        "command": ["dnsmasq"],
        "args": dnsmasq_args(),
        "ports": _dns_ports("containerPort"),
        "livenessProbe": _probe({"tcpSocket": {"port": "dns-tcp"}}, 5),
        "readinessProbe": _probe({"tcpSocket": {"port": "dns-tcp"}}, 3),
        "resources": _resources(config),
        "securityContext": security,
        "volumeMounts": [{"name": "config", "mountPath": DNSMASQ_DIR, "readOnly": True}],
    }
    volume = {"name": "config", "configMap": {"name": DNSMASQ_CONFIGMAP}}
    return container, volume


def _probe(action: dict[str, Any], failures: int) -> dict[str, Any]:
    """Every field written, so a GitOps diff against the defaulted live object stays empty."""
    return {
        **action,
        "initialDelaySeconds": 5,
        "periodSeconds": 10,
        "timeoutSeconds": 5,
        "successThreshold": 1,
        "failureThreshold": failures,
    }


def deployment(config: Config) -> dict[str, Any]:
    """Replicas spread across nodes (at most one more on any node than on another), rolled one
    new pod at a time without lowering capacity. ``dnsPolicy: Default``: the servers resolve
    through the node's resolver, so outside clients never reach the cluster's own names.

    Non-root with only ``NET_BIND_SERVICE``; port 53 also works without the capability through
    the namespaced, Pod-Security-"safe" sysctl ``net.ipv4.ip_unprivileged_port_start``, because
    container runtimes do not raise added capabilities for a non-root user in every version.
    """
    container, volume = _container(config)
    spread = {
        "maxSkew": 1,
        "topologyKey": "kubernetes.io/hostname",
        "whenUnsatisfiable": "DoNotSchedule",
        "labelSelector": {"matchLabels": dict(SELECTOR)},
    }
    anti_affinity = {
        "preferredDuringSchedulingIgnoredDuringExecution": [
            {
                "weight": 100,
                "podAffinityTerm": {
                    "topologyKey": "kubernetes.io/hostname",
                    "labelSelector": {"matchLabels": dict(SELECTOR)},
                },
            }
        ]
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(config),
        "spec": {
            "replicas": config.pod.dns_replicas,
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": dict(SELECTOR)},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
            },
            "template": {
                "metadata": {"labels": dict(LABELS)},
                "spec": {
                    "dnsPolicy": "Default",
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "terminationGracePeriodSeconds": 30,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": USER_ID,
                        "runAsGroup": USER_ID,
                        "seccompProfile": {"type": "RuntimeDefault"},
                        "sysctls": [{"name": "net.ipv4.ip_unprivileged_port_start", "value": "53"}],
                    },
                    "topologySpreadConstraints": [spread],
                    "affinity": {"podAntiAffinity": anti_affinity},
                    "containers": [container],
                    "volumes": [volume],
                },
            },
        },
    }


def pod_disruption_budget(config: Config) -> dict[str, Any]:
    """One server at a time may be evicted (a drain), whatever the replica count: with
    ``minAvailable`` a single replica could never be drained."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _metadata(config),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": dict(SELECTOR)}},
    }


def service(config: Config) -> dict[str, Any]:
    """Port 53 over UDP and TCP on one Service (mixed protocols are GA since Kubernetes 1.26).
    The address is asked for in exactly one place (``dns.loadbalancer_ip_field``): MetalLB
    refuses a Service that has both ``spec.loadBalancerIP`` and its annotation."""
    dns = config.dns
    metadata = _metadata(config)
    spec: dict[str, Any] = {
        "type": dns.service_type.value,
        "selector": dict(SELECTOR),
        "ports": [{**port, "targetPort": port["name"]} for port in _dns_ports("port")],
        "externalTrafficPolicy": dns.external_traffic_policy.value,
        "sessionAffinity": "None",
    }
    address = dns.loadbalancer_ip
    if address is not None:
        spec["ipFamilyPolicy"] = "SingleStack"
        spec["ipFamilies"] = ["IPv6" if ":" in address else "IPv4"]
        if dns.service_type is ServiceType.LOAD_BALANCER:
            if dns.loadbalancer_ip_field is AddressField.METALLB:
                metadata["annotations"] = {METALLB_ADDRESS: address}
            else:
                spec["loadBalancerIP"] = address
    return {"apiVersion": "v1", "kind": "Service", "metadata": metadata, "spec": spec}


def _host_block(address: str) -> dict[str, Any]:
    return {"ipBlock": {"cidr": f"{address}/{128 if ':' in address else 32}"}}


def network_policy(config: Config) -> dict[str, Any]:
    """DNS in from ``dns.client_ranges`` (any source when empty), DNS out to ``dns.upstream``
    only. Without configured upstreams the servers forward to the node's resolver, whose
    address is not known here, so egress is allowed on port 53 to any address (nothing else).
    """
    dns_ports = [{"protocol": p["protocol"], "port": 53} for p in _dns_ports("port")]
    ingress: dict[str, Any] = {"ports": dns_ports}
    if config.dns.client_ranges:
        ingress = {"from": [{"ipBlock": {"cidr": c}} for c in config.dns.client_ranges], **ingress}
    egress: dict[str, Any] = {"ports": [dict(p) for p in dns_ports]}
    if config.dns.upstream:
        egress = {"to": [_host_block(a) for a in config.dns.upstream], **egress}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _metadata(config),
        "spec": {
            "podSelector": {"matchLabels": dict(SELECTOR)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [ingress],
            "egress": [egress],
        },
    }


def namespace(config: Config) -> dict[str, Any]:
    """The DNS namespace, enforcing the ``restricted`` Pod Security Standard the pods meet."""
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": config.dns.namespace,
            "labels": {**MANAGED_BY, "pod-security.kubernetes.io/enforce": "restricted"},
        },
    }


def dns_server_files(config: Config, marker: str) -> dict[str, bytes]:
    """Relative path -> manifest, listed as kustomize resources."""
    objects = {
        "namespace.yaml": namespace(config),
        "deployment.yaml": deployment(config),
        "poddisruptionbudget.yaml": pod_disruption_budget(config),
        "service.yaml": service(config),
        "networkpolicy.yaml": network_policy(config),
    }
    return {FOLDER + name: dump(document, marker) for name, document in objects.items()}
