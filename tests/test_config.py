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
        ({"git": {"push_retries": -1}}, "git.push_retries: must be a whole number from 0 to 100"),
        ({"git": {"push_retries": True}}, "git.push_retries"),
        ({"git": {"lock_timeout": "1m"}}, "git.lock_timeout: must be a number of seconds"),
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


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param(
            {"routing": {"service_types": {"imgae": {}}}},
            "config: routing.service_types.imgae: unknown service type; did you mean 'image'?",
            id="misspelt-service-type",
        ),
        pytest.param(
            {"routing": {"service_types": {"volumev3": {}, "block-storage": {}}}},
            "config: routing.service_types.block-storage: names service type block-storage, "
            "as volumev3 does",
            id="alias-and-official-type",
        ),
        pytest.param(
            {"routing": {"service_types": {"image": {"body_limit": "0\n"}}}},
            "config: routing.service_types.image.body_limit: ",
            id="tuning-value-path",
        ),
        pytest.param(
            {"routing": {"tuning": {"read_timeout": "60\n"}}},
            "config: routing.tuning.read_timeout: ",
            id="annotation-value-path",
        ),
        pytest.param(
            {"services": {"Keystone-API": {}}},
            "config: services.Keystone-API: Service name 'Keystone-API' is not",
            id="services-key-uppercase",
        ),
        pytest.param(
            {"services": {"a\nb": {}}}, "config: services.'a\\nb': ", id="services-key-quoted"
        ),
        pytest.param({"dns": {"ttl": True}}, "config: dns.ttl: ", id="ttl-bool"),
        pytest.param({"dns": {"ttl": 30.0}}, "config: dns.ttl: ", id="ttl-float"),
        pytest.param({"dns": {"ttl": 10**5000}}, "config: dns.ttl: ", id="ttl-5000-digits"),
        pytest.param({"git": {"author_name": "Bot\u2028"}}, "git.author_name", id="name-u2028"),
        pytest.param({"git": {"author_name": "Bot\x7f"}}, "git.author_name", id="name-del"),
        pytest.param({"git": {"branch": "main\t"}}, "git.branch", id="branch-tab"),
        pytest.param(
            {"routing": {"ingress_class": "nginx\n"}}, "routing.ingress_class", id="class-newline"
        ),
        pytest.param(
            {"routing": {"public_domain": "10.0.0.1"}}, "routing.public_domain", id="domain-ip"
        ),
    ],
)
def test_hostile_values_name_their_key(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    assert str(caught.value).startswith(message) or message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_service_type_aliases_are_normalised() -> None:
    config = parse_config({"routing": {"service_types": {"volumev3": {"body_limit": "1g"}}}})
    assert config.routing.service_types == {"block-storage": {"body_limit": 1024**3}}
    extra = parse_config({"routing": {"service_types": {"novncproxy": {}}}})
    assert extra.routing.service_types == {"novncproxy": {}}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b"dns:\n  ttl: \xff\n", "is not UTF-8 text", id="not-utf8"),
        pytest.param(b"a: " + b"[" * 100_000 + b"]" * 100_000, "nested too deeply", id="deep"),
        pytest.param(b"dns:\n  ttl: " + b"9" * 5000 + b"\n", "cannot be read", id="5000-digits"),
    ],
)
def test_unreadable_config_files_are_named(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "nexus.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)
