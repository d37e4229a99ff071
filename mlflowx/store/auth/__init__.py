"""Users, API tokens and permissions for the tracking server's ``--auth`` mode."""

from mlflowx.store.auth.sql import SqlAuthStore

__all__ = ["SqlAuthStore"]
