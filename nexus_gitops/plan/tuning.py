"""How each API's traffic is tuned: OpenStack's needs by service type, then the config's layers.

The values are neutral (:class:`nexus_gitops.model.Tuning`); which annotation or policy
expresses them is the renderer's business.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from nexus_gitops.config import Config
from nexus_gitops.model import Api, BackendProtocol, Tuning

UPLOAD_TYPES = frozenset({"image", "block-storage", "object-store"})
"""Image and volume uploads are gigabytes: no size limit, streamed instead of buffered to disk."""

CONSOLE_TYPES = frozenset({"novncproxy", "spiceproxy", "serialproxy"})
"""Console websockets sit idle between key strokes; a proxy's 60 s default cuts them off."""

CONSOLE_TIMEOUT = 3600


def builtin_tuning(service_type: str) -> dict[str, Any]:
    """The tuning OpenStack needs by default for a service type."""
    if service_type in UPLOAD_TYPES:
        return {"body_limit": 0, "request_buffering": False}
    if service_type in CONSOLE_TYPES:
        return {"read_timeout": CONSOLE_TIMEOUT, "send_timeout": CONSOLE_TIMEOUT}
    return {}


def _apply(tuning: Tuning, layer: Mapping[str, Any]) -> Tuning:
    defaults = Tuning()
    changes = {
        name: getattr(defaults, name) if value is None else value for name, value in layer.items()
    }
    return dataclasses.replace(tuning, **changes)


def tuning_for(api: Api, config: Config) -> Tuning:
    """Built-in defaults, then ``routing.tuning``, then ``routing.service_types.<type>``."""
    tuning = _apply(Tuning(), builtin_tuning(api.service_type))
    if api.backend_https:
        tuning = dataclasses.replace(tuning, backend_protocol=BackendProtocol.HTTPS)
    tuning = _apply(tuning, config.routing.tuning)
    return _apply(tuning, config.routing.service_types.get(api.service_type, {}))
