"""Configuration is validated at the edge: unknown keys and bad values are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from nexus_gitops.config import Config, Style, load_config, parse_config
from nexus_gitops.errors import ConfigError
from tests.conftest import EXAMPLE_CONFIG


def test_defaults_follow_nexus() -> None:
    config = parse_config({})
    assert config == Config()
    assert config.discovery.openstack_namespace == "openstack"
    assert config.routing.style is Style.PATH
    assert config.routing.ingress_class == "openstack-nginx"
    assert config.path_host() == "openstack.openstack.svc.cluster.local"
    assert config.dns.enabled is True


def test_example_config_loads() -> None:
    config = load_config(EXAMPLE_CONFIG)
    assert config.discovery.public_service() == ("openstack", "public-openstack")
    assert config.dns.loadbalancer_ip == "172.18.30.167"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"discovery": {"namespace": "x"}}, "unknown key 'discovery.namespace'"),
        ({"proxy": {"ssl": {"enable": True}}}, "unknown key 'proxy.ssl.enable'"),
        ({"routng": {}}, "unknown key 'routng'"),
        ({"services": {"cinder-api": {"paht": "x"}}}, "unknown key 'services.cinder-api.paht'"),
        ({"routing": {"style": "subdomain"}}, "routing.style: must be path, host or both"),
        ({"discovery": {"fallback_target": "10.0.0"}}, "discovery.fallback_target"),
        ({"dns": {"upstream": ["8.8.8.8", "dns.google"]}}, "dns.upstream"),
        ({"dns": {"enabled": "yes"}}, "dns.enabled: must be true or false"),
        ({"routing": {"annotations": {"server-snippet": "x"}}}, "replaced by routing.tuning"),
        ({"routing": {"service_types": {"image": {"body_limit": "big"}}}}, "body_limit"),
        ({"routing": {"path_host": "bad host"}}, "routing.path_host"),
        ({"services": {"cinder-api": {"path": "/volumev3"}}}, "services.cinder-api.path"),
        ({"discovery": []}, "discovery must be a mapping"),
        ({"git": {"branch": "main..x"}}, "git.branch"),
        ({"proxy": {"ssl": {"issuer": "a", "cluster_issuer": "b"}}}, "not both"),
        ({"dns": {"coredns_dir": "relative/dir"}}, "dns.coredns_dir"),
    ],
)
def test_invalid_config_is_named(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        parse_config(raw)


def test_service_overrides_by_name_and_namespace() -> None:
    config = parse_config(
        {
            "discovery": {"extra_namespaces": ["storage"]},
            "services": {
                "cinder-api": {"path": "block"},
                "storage/swift-proxy": {"expose": False},
            },
        }
    )
    assert config.override_for("openstack", "cinder-api").path == "block"  # type: ignore[union-attr]
    assert config.override_for("storage", "cinder-api") is None
    assert config.override_for("storage", "swift-proxy").expose is False  # type: ignore[union-attr]


def test_null_tuning_removes_a_builtin_default() -> None:
    config = parse_config({"routing": {"service_types": {"image": {"body_limit": None}}}})
    assert config.routing.service_types["image"] == {"body_limit": None}


def test_unreadable_and_invalid_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("discovery: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
