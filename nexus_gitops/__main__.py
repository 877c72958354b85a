"""Allow ``python -m nexus_gitops``."""

from nexus_gitops.cli import main

main()
