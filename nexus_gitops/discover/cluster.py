"""The live source: Services read through the official kubernetes client.

Imported only when ``--source kubernetes`` is used. Responses are read as raw JSON
(``_preload_content=False``) so the cluster and snapshot sources share one parser and no time is
spent building client model objects only to turn them back into dicts.

An unattended run must end, and say why: the whole discovery has one deadline
(``--request-timeout``), urllib3's own retries are off (they made a silent server cost four
timeouts), and every failure is one :class:`~nexus_gitops.errors.SourceError` that names the
API server and says what to check.
"""

from __future__ import annotations

import json
import os
import ssl
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kubernetes import client
from kubernetes import config as kube_config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from urllib3.exceptions import (
    HTTPError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    SSLError,
)
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from nexus_gitops.discover import Listing
from nexus_gitops.discover.manifest import DuplicateKey, loads_json, service_from_manifest
from nexus_gitops.errors import SourceError
from nexus_gitops.model import KubeService, Skip
from nexus_gitops.validate.names import InvalidValue, dns_label, shown

PAGE_SIZE = 500
TIMEOUT_SECONDS = 30.0
MAX_RESTARTS = 3
RBAC_HINT = "grant get and list on services to the identity nexus-gitops runs as"
AUTH_HINT = (
    "the API server refused the credentials: the token or client certificate is expired or "
    "invalid; refresh the kubeconfig or the service account token"
)
CA_HINT = "check the server address and certificate-authority(-data) in the kubeconfig"
CREDENTIALS_HINT = "pass --kubeconfig, set KUBECONFIG, or run in a pod with a service account"


class ClusterSource:
    """Lists Services page by page (``limit``/``continue``), as kubectl does."""

    def __init__(
        self,
        api: Any,
        description: str,
        page_size: int = PAGE_SIZE,
        request_timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self._api = api
        self.description = description
        self._host = description.removeprefix("cluster ")
        self._page_size = page_size
        self._timeout = request_timeout
        self._deadline = time.monotonic() + request_timeout

    @classmethod
    def connect(
        cls,
        *,
        kubeconfig: Path | None = None,
        context: str | None = None,
        page_size: int = PAGE_SIZE,
        request_timeout: float = TIMEOUT_SECONDS,
    ) -> ClusterSource:
        """Choose credentials as kubectl does: --kubeconfig, $KUBECONFIG, ~/.kube/config, then
        the in-cluster service account. ``request_timeout`` is the deadline, in seconds, for
        every call this source will make, counted from now."""
        configuration = client.Configuration()
        config_file = _kubeconfig_file(kubeconfig)
        if config_file is None and context:
            raise SourceError("--context needs a kubeconfig, and none was found")
        origin = f" from {config_file}" if config_file else ""
        try:
            if config_file is not None:
                kube_config.load_kube_config(
                    config_file=config_file, context=context, client_configuration=configuration
                )
            else:
                kube_config.load_incluster_config(client_configuration=configuration)
        except ConfigException as exc:
            raise SourceError(
                f"cannot load Kubernetes credentials{origin}: {_one_line(exc)}",
                hint=CREDENTIALS_HINT,
            ) from None
        except Exception as exc:
            # The client's loader fails on a malformed kubeconfig with whatever its parsing
            # raised (YAMLError, TypeError, KeyError, RecursionError, UnicodeDecodeError...):
            # every one of them means the same thing to the user.
            raise SourceError(
                f"cannot load Kubernetes credentials{origin}: the kubeconfig is malformed "
                f"({type(exc).__name__})",
                hint="check it with: kubectl config view",
            ) from None
        host = configuration.host
        if not isinstance(host, str) or not host.isprintable() or not host.isascii():
            raise SourceError(f"cannot use the Kubernetes API server {shown(host)}{origin}")
        configuration.retries = False  # one deadline for the run, not four per call
        api_client = client.ApiClient(configuration)
        return cls(client.CoreV1Api(api_client), f"cluster {host}", page_size, request_timeout)

    def list_services(self, namespaces: Sequence[str]) -> Listing:
        """Services of each namespace; one whose list is empty is looked up, so that a missing
        namespace is reported as missing and not as one without APIs."""
        services: list[KubeService] = []
        problems: list[Skip] = []
        missing: list[str] = []
        for namespace in dict.fromkeys(namespaces):
            items = self._list_namespace(namespace)
            if not items and not self._namespace_exists(namespace):
                missing.append(namespace)
            for item in items:
                try:
                    services.append(service_from_manifest(item))
                except InvalidValue as exc:
                    name = _item_name(item)
                    problems.append(Skip(f"{namespace}/{name}", f"unreadable: {exc}", True))
        return Listing(tuple(services), tuple(problems), tuple(missing))

    def _namespace_exists(self, namespace: str) -> bool:
        """False when the Namespace is not found, and also when reading it is forbidden or
        unauthorised: then nobody can tell, and the caller treats it as missing."""
        try:
            self._call(f"read namespace {namespace}", self._api.read_namespace, namespace)
        except (_NotFound, _Refused):
            return False
        return True

    def _list_namespace(self, namespace: str) -> list[Any]:
        for _attempt in range(MAX_RESTARTS):
            items: list[Any] = []
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
                    found = page.get("items") or []
                    metadata = page.get("metadata") or {}
                    if not isinstance(found, list) or not isinstance(metadata, dict):
                        raise SourceError(
                            f"cannot list services in namespace {namespace}: the answer of "
                            f"{self._host} is not a ServiceList"
                        )
                    items.extend(found)
                    next_token = metadata.get("continue") or None
                    token = next_token if isinstance(next_token, str) else None
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
        """One API call within what is left of the deadline; every failure is a SourceError
        (or _NotFound/_Expired/_Refused, which the callers turn into one)."""
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise SourceError(f"cannot {what}: {self._no_answer()}")
        try:
            response = method(*args, _preload_content=False, _request_timeout=remaining, **kwargs)
        except ApiException as exc:
            raise self._api_error(what, exc) from None
        except (HTTPError, OSError, ValueError) as exc:
            # ValueError: http.client refuses a header value with a newline (a bad token).
            raise SourceError(f"cannot {what}: {self._transport_error(exc)}") from None
        try:
            data = loads_json(response.data)
        except DuplicateKey as exc:
            key = shown(exc.args[0])
            raise SourceError(
                f"cannot {what}: the answer of {self._host} has a duplicate key {key}"
            ) from None
        except RecursionError:
            raise SourceError(
                f"cannot {what}: the answer of {self._host} is nested too deeply"
            ) from None
        except ValueError:
            raise SourceError(f"cannot {what}: the answer of {self._host} is not JSON") from None
        if not isinstance(data, dict):
            raise SourceError(f"cannot {what}: the answer of {self._host} is not an object")
        return data

    def _api_error(self, what: str, exc: ApiException) -> SourceError | _NotFound | _Expired:
        if exc.status == 0:  # the client wraps urllib3's SSLError as ApiException(status=0)
            reason = str(exc.reason or "")
            if "SSL" in reason or "certificate" in reason.lower():
                return SourceError(f"cannot {what}: {self._certificate(reason)}", hint=CA_HINT)
            return SourceError(f"cannot {what}: {_one_line(reason)}")
        if exc.status == 404:
            return _NotFound()
        if exc.status == 410:
            return _Expired()
        message = f"cannot {what}: {exc.status} {_status_message(exc)}"
        if exc.status == 401:
            return _Refused(message, hint=AUTH_HINT)
        if exc.status == 403:
            return _Refused(message, hint=RBAC_HINT)
        return SourceError(message)

    def _transport_error(self, exc: BaseException) -> str:
        if isinstance(exc, MaxRetryError) and exc.reason is not None:
            exc = exc.reason
        if isinstance(exc, SSLError | ssl.SSLError):
            return self._certificate(str(exc))
        if isinstance(exc, NameResolutionError):
            return f"cannot reach the Kubernetes API at {self._host}: its name does not resolve"
        if isinstance(exc, NewConnectionError | ConnectionRefusedError):
            return f"cannot reach the Kubernetes API at {self._host}: connection refused"
        if isinstance(exc, Urllib3Timeout | TimeoutError):
            return self._no_answer()
        if isinstance(exc, ProtocolError | ConnectionError):
            return f"the Kubernetes API at {self._host} dropped the connection"
        if isinstance(exc, ValueError) and not isinstance(exc, HTTPError):
            # Not the exception's text: http.client quotes the header, which holds the token.
            return (
                f"cannot send a request to {self._host}: the kubeconfig's credentials make an "
                "invalid HTTP header (a token with a newline?)"
            )
        return f"cannot reach the Kubernetes API at {self._host} ({type(exc).__name__})"

    def _certificate(self, detail: str) -> str:
        if "CERTIFICATE_VERIFY_FAILED" in detail:
            detail = detail.split("certificate verify failed:", 1)[-1].split("(_ssl", 1)[0]
        else:
            detail = detail.split("\n")[-1]
        return (
            f"certificate problem with the Kubernetes API at {self._host}: "
            f"{_one_line(detail).strip(' ,')[:120] or 'verification failed'}"
        )

    def _no_answer(self) -> str:
        seconds = f"{self._timeout:g}"
        return (
            f"the Kubernetes API at {self._host} did not answer within {seconds}s "
            "(--request-timeout)"
        )


def _kubeconfig_file(kubeconfig: Path | None) -> str | None:
    """The kubeconfig to load, kubectl's way; a file named but missing is named in the error,
    rather than the client's "Invalid kube-config file. No configuration found."."""
    if kubeconfig is not None:
        if not kubeconfig.is_file():
            raise SourceError(f"--kubeconfig {kubeconfig}: no such file")
        return str(kubeconfig)
    variable = os.environ.get("KUBECONFIG")
    if variable:
        paths = [p for p in variable.split(os.pathsep) if p]
        if not any(Path(p).is_file() for p in paths):
            raise SourceError(f"$KUBECONFIG {variable}: no such file", hint=CREDENTIALS_HINT)
        return variable if len(paths) > 1 else paths[0]
    default = Path("~/.kube/config").expanduser()
    return str(default) if default.exists() else None


class _NotFound(Exception):
    pass


class _Expired(Exception):
    pass


class _Refused(SourceError):
    """401 or 403: an error, unless the caller can do without the answer."""


def _item_name(item: Any) -> str:
    """The item's name as a plain label when it is one, else quoted and escaped."""
    meta = item.get("metadata") if isinstance(item, dict) else None
    name = meta.get("name") if isinstance(meta, dict) else None
    try:
        return dns_label(name)
    except InvalidValue:
        return shown(name, 40)


def _status_message(exc: ApiException) -> str:
    """The API server's own message from a Status body, else the HTTP reason."""
    try:
        body = json.loads(exc.body or "{}")
        message = body.get("message") if isinstance(body, dict) else None
    except (ValueError, RecursionError):
        message = None
    return _one_line(message or exc.reason or "error")


def _one_line(value: object) -> str:
    return " ".join(str(value).split())[:300]
