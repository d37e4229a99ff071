"""Auth settings: flags and environment, or an MLflow ``basic_auth.ini``-style file."""

from __future__ import annotations

import configparser
import os
from dataclasses import dataclass
from pathlib import Path

from mlflowx.entities.auth import READ, Permission, permission_named
from mlflowx.exceptions import InvalidParameter

__all__ = ["AuthConfig"]


@dataclass(frozen=True)
class AuthConfig:
    """How ``mlflowx server --auth`` authenticates and what users may do by default.

    Attributes:
        default_permission: what a user may do on an experiment or registered model nobody
            granted them anything on (MLflow's ``default_permission``, READ by default).
        admin_username, admin_password: the first admin, created when the server starts
            against a database without users (the password is needed only then).
        cache_seconds: how long a checked password or token is remembered by a worker
            (password hashes are slow on purpose); changes made through this worker's API
            apply at once, other workers see them after at most this long.
    """

    default_permission: Permission = READ
    admin_username: str = "admin"
    admin_password: str | None = None
    cache_seconds: float = 30.0
    realm: str = "mlflowx"

    @classmethod
    def from_env(cls, config_file: str | None = None) -> AuthConfig:
        """Settings from ``config_file`` (or ``$MLFLOWX_AUTH_CONFIG`` /
        ``$MLFLOW_AUTH_CONFIG_PATH``), overridden by ``MLFLOWX_AUTH_DEFAULT_PERMISSION``,
        ``MLFLOWX_AUTH_ADMIN_USERNAME``, ``MLFLOWX_AUTH_ADMIN_PASSWORD`` (or MLflow's
        ``MLFLOW_AUTH_ADMIN_PASSWORD``) and ``MLFLOWX_AUTH_CACHE_SECONDS``."""
        values: dict[str, str] = {}
        path = (
            config_file
            or os.environ.get("MLFLOWX_AUTH_CONFIG")
            or os.environ.get("MLFLOW_AUTH_CONFIG_PATH")
        )
        if path:
            values.update(_read_ini(Path(path)))
        env = {
            "default_permission": "MLFLOWX_AUTH_DEFAULT_PERMISSION",
            "admin_username": "MLFLOWX_AUTH_ADMIN_USERNAME",
            "admin_password": "MLFLOWX_AUTH_ADMIN_PASSWORD",
            "cache_seconds": "MLFLOWX_AUTH_CACHE_SECONDS",
        }
        for key, name in env.items():
            if os.environ.get(name):
                values[key] = os.environ[name]
        if "admin_password" not in values and os.environ.get("MLFLOW_AUTH_ADMIN_PASSWORD"):
            values["admin_password"] = os.environ["MLFLOW_AUTH_ADMIN_PASSWORD"]
        try:
            cache = float(values.get("cache_seconds", cls.cache_seconds))
        except ValueError:
            raise InvalidParameter(
                f"Invalid auth cache_seconds {values['cache_seconds']!r}: expected a number"
            ) from None
        return cls(
            default_permission=permission_named(
                values.get("default_permission", READ.name), "default_permission"
            ),
            admin_username=values.get("admin_username", cls.admin_username),
            admin_password=values.get("admin_password") or None,
            cache_seconds=max(cache, 0.0),
        )


def _read_ini(path: Path) -> dict[str, str]:
    """The ``[mlflow]`` section of an MLflow basic-auth file (its ``database_uri`` and
    ``authorization_function`` do not apply: users live in the tracking database)."""
    parser = configparser.ConfigParser()
    try:
        with path.open(encoding="utf-8") as handle:
            parser.read_file(handle)
    except OSError as exc:
        raise InvalidParameter(f"Cannot read the auth config file {path}: {exc.strerror}") from None
    except configparser.Error as exc:
        raise InvalidParameter(f"The auth config file {path} is not valid: {exc}") from None
    if not parser.has_section("mlflow"):
        raise InvalidParameter(f"The auth config file {path} has no [mlflow] section")
    section = parser["mlflow"]
    keys = ("default_permission", "admin_username", "admin_password", "cache_seconds")
    return {k: section[k] for k in keys if section.get(k)}
