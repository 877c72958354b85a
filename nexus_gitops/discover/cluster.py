"""The live source: Services read through the official kubernetes client.

Imported only when ``--source kubernetes`` is used. Responses are read as raw JSON
(``_preload_content=False``) so the cluster and snapshot sources share one parser and no time is
spent building client model objects only to turn them back into dicts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kubernetes import client
from kubernetes import config as kube_config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from urllib3.exceptions import HTTPError

from nexus_gitops.discover import Listing
from nexus_gitops.discover.manifest import service_from_manifest
from nexus_gitops.errors import SourceError
from nexus_gitops.model import KubeService, Skip
from nexus_gitops.validate.names import InvalidValue

PAGE_SIZE = 500
TIMEOUT_SECONDS = 30
MAX_RESTARTS = 3
RBAC_HINT = "grant get and list on services to the identity nexus-gitops runs as"


class ClusterSource:
    """Lists Services page by page (``limit``/``continue``), as kubectl does."""

    def __init__(self, api: Any, description: str, page_size: int = PAGE_SIZE) -> None:
        self._api = api
        self.description = description
        self._page_size = page_size

    @classmethod
    def connect(
        cls,
        *,
        kubeconfig: Path | None = None,
        context: str | None = None,
        page_size: int = PAGE_SIZE,
    ) -> ClusterSource:
        """Choose credentials as kubectl does: --kubeconfig, $KUBECONFIG, ~/.kube/config, then
        the in-cluster service account."""
        default = Path("~/.kube/config").expanduser()
        try:
            if kubeconfig or os.environ.get("KUBECONFIG") or default.exists():
                api_client = kube_config.new_client_from_config(
                    config_file=str(kubeconfig) if kubeconfig else None, context=context
                )
            else:
                if context:
                    raise SourceError("--context needs a kubeconfig, and none was found")
                configuration = client.Configuration()
                kube_config.load_incluster_config(client_configuration=configuration)
                api_client = client.ApiClient(configuration)
        except (ConfigException, OSError) as exc:
            raise SourceError(
                f"cannot load Kubernetes credentials: {_one_line(exc)}",
                hint="pass --kubeconfig, set KUBECONFIG, or run in a pod with a service account",
            ) from None
        host = api_client.configuration.host
        return cls(client.CoreV1Api(api_client), f"cluster {host}", page_size)

    def list_services(self, namespaces: Sequence[str]) -> Listing:
        services: list[KubeService] = []
        problems: list[Skip] = []
        missing: list[str] = []
        for namespace in namespaces:
            items = self._list_namespace(namespace)
            if not items:
                missing.append(namespace)
            for item in items:
                try:
                    services.append(service_from_manifest(item))
                except InvalidValue as exc:
                    name = (item.get("metadata") or {}).get("name")
                    problems.append(Skip(f"{namespace}/{name!r}", f"unreadable: {exc}", True))
        return Listing(tuple(services), tuple(problems), tuple(missing))

    def _list_namespace(self, namespace: str) -> list[dict[str, Any]]:
        for _attempt in range(MAX_RESTARTS):
            items: list[dict[str, Any]] = []
            token: str | None = None
            try:
                while True:
                    page = self._call(
                        f"list services in namespace {namespace}",
                        self._api.list_namespaced_service,
                        namespace,
                        limit=self._page_size,
                        _continue=token,
                    )
                    items.extend(page.get("items") or [])
                    token = (page.get("metadata") or {}).get("continue") or None
                    if not token:
                        return items
            except _Expired:
                continue  # the continue token expired: start the list again, as kubectl does
        raise SourceError(f"listing services in namespace {namespace} kept expiring; try again")

    def get_service(self, namespace: str, name: str) -> KubeService | None:
        try:
            raw = self._call(
                f"read service {namespace}/{name}",
                self._api.read_namespaced_service,
                name,
                namespace,
            )
        except _NotFound:
            return None
        try:
            return service_from_manifest(raw)
        except InvalidValue as exc:
            raise SourceError(f"service {namespace}/{name} is unreadable: {exc}") from None

    def _call(self, what: str, method: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            response = method(
                *args, _preload_content=False, _request_timeout=TIMEOUT_SECONDS, **kwargs
            )
            data: dict[str, Any] = json.loads(response.data)
            return data
        except ApiException as exc:
            if exc.status == 404:
                raise _NotFound from None
            if exc.status == 410:
                raise _Expired from None
            if exc.status in (401, 403):
                raise SourceError(
                    f"cannot {what}: {exc.status} {_status_message(exc)}", hint=RBAC_HINT
                ) from None
            raise SourceError(f"cannot {what}: {exc.status} {_status_message(exc)}") from None
        except (HTTPError, OSError, ValueError) as exc:
            raise SourceError(
                f"cannot {what}: the Kubernetes API did not answer ({type(exc).__name__})"
            ) from None


class _NotFound(Exception):
    pass


class _Expired(Exception):
    pass


def _status_message(exc: ApiException) -> str:
    """The API server's own message from a Status body, else the HTTP reason."""
    try:
        body = json.loads(exc.body or "{}")
        message = body.get("message") if isinstance(body, dict) else None
    except ValueError:
        message = None
    return _one_line(message or exc.reason or "error")


def _one_line(value: object) -> str:
    return " ".join(str(value).split())[:300]
