"""Committing: apply a file plan to a directory or to a Git repository, atomically."""
