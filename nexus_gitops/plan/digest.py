"""Digests that let a run with nothing to do stop early.

A run's output is a function of its inputs (the recognised APIs, the ingress address, the
config, the run's options, the tool's version) and of the committed folder. Running it again on
its own output gives the same output. So when the committed ``state.json`` records the digest
of the very inputs this run has, and the committed files are byte for byte those that run wrote
(their git blob ids, recorded too), nothing can change: the run skips planning, rendering and
validation and reads one small file. Anything else (a config edit, a new Service, a hand edit
in the folder, a new tool version) takes the full path.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

from nexus_gitops import __version__
from nexus_gitops.config import Config
from nexus_gitops.model import STATE_FILE, STATE_VERSION, Api


def blob_id(content: bytes) -> str:
    """The id git gives a blob with this content (SHA-1 object format)."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False).hexdigest()


def inputs_digest(
    apis: Sequence[Api],
    address: str | None,
    missing_namespaces: Sequence[str],
    config: Config,
    options: Sequence[object],
) -> str:
    """Everything but the committed folder that the output depends on. The date is not in it:
    it only matters when a zone changes, and then the inputs changed too."""
    text = repr((__version__, STATE_VERSION, config, tuple(options), address, missing_namespaces))
    digest = hashlib.sha256(text.encode())
    for api in apis:
        digest.update(repr(api).encode())
    return digest.hexdigest()


def files_digest(blob_ids: Mapping[str, str]) -> str:
    """The managed folder's files (but the state file, which records this) by blob id."""
    digest = hashlib.sha256()
    for path in sorted(blob_ids):
        if path != STATE_FILE:
            digest.update(f"{path}\0{blob_ids[path]}\n".encode())
    return digest.hexdigest()
