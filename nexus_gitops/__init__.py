"""nexus-gitops: OpenStack API routing and DNS for Kubernetes, delivered as Git commits.

The package is laid out as the pipeline it runs:

    discover -> model -> plan (routes, serials) -> render -> validate -> plan (files) -> commit

Each stage takes and returns the frozen dataclasses of :mod:`nexus_gitops.model`, so a stage can
be tested on its own and later outputs (Gateway API, pull requests) plug in as new stages.
"""

__version__ = "0.1.0"
