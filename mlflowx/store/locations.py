"""Which storage locations may be stored and later resolved (the CVE-2024-1483 family).

An experiment's ``artifact_location`` (and so each of its runs' ``artifact_uri``), the server's
``--artifacts-destination``/``--default-artifact-root`` and a model version's ``source`` are
URIs that some later code turns into file-system paths or network connections. This module is
the one place that decides which of them are acceptable:

- no fragment, query or parameters (``#``, ``?``, ``;``), no control characters or NUL, and no
  ``..`` segment, all checked after percent-decoding until the text is stable (``%252e%252e``
  is ``..`` to a consumer that decodes twice);
- only allowed schemes: local paths and ``file:``, ``mlflow-artifacts:`` and the object stores
  (:data:`DEFAULT_SCHEMES`); operators add more with ``MLFLOWX_ALLOWED_ARTIFACT_SCHEMES``;
- no host unless configured (``MLFLOWX_ALLOWED_ARTIFACT_HOSTS``): ``file:`` names none,
  ``mlflow-artifacts:`` only a listed one (else clients would send files and their token
  there), and ``http(s)``/``ftp``/``hdfs``... only a listed one (else the server connects
  wherever a client says). An object store's "host" is its bucket, which is not checked;
- on a tracking server, local locations must lie inside the server's own artifact roots
  (:attr:`LocationPolicy.local_roots`; more with ``MLFLOWX_ALLOWED_ARTIFACT_ROOTS``).
  MLflow has no such rule (a client's ``/etc`` is listed by its ``/artifacts/list``); without
  it the other checks would not keep a client from reading the server's files.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from urllib.parse import unquote, urlsplit

from mlflowx import settings
from mlflowx.exceptions import InvalidParameter
from mlflowx.store.schemes import scheme_of

__all__ = [
    "BUCKET_SCHEMES",
    "DEFAULT_SCHEMES",
    "LocationPolicy",
    "check_location",
    "check_source",
    "decode_until_stable",
    "is_local",
]

#: Schemes whose authority part names a bucket or container, not a host to connect to.
BUCKET_SCHEMES = frozenset({"s3", "gs", "gcs", "az", "abfs", "abfss", "memory"})
#: Allowed without configuration: local files, the server's proxy and the cloud object stores.
DEFAULT_SCHEMES = frozenset({"file", "mlflow-artifacts", "s3", "gs", "gcs", "az", "abfs", "abfss"})
_MAX_DECODE_ROUNDS = 8
_LOCALHOST = frozenset({"", "localhost"})
_SETTINGS_HINT = (
    "an operator can allow it with MLFLOWX_ALLOWED_ARTIFACT_SCHEMES "
    "(mlflowx server --allowed-artifact-schemes)"
)


def decode_until_stable(text: str, what: str = "location") -> str:
    """Percent-decode ``text`` until decoding changes nothing (``%252e`` -> ``%2e`` -> ``.``)."""
    for _ in range(_MAX_DECODE_ROUNDS):
        decoded = unquote(text)
        if decoded == text:
            return text
        text = decoded
    raise InvalidParameter(f"Invalid {what}: it is percent-encoded too many times")


def is_local(uri: str) -> bool:
    """A plain path (POSIX, relative or ``C:\\...``) or a ``file:`` URI."""
    return scheme_of(uri) == "file"


def absolute_local(uri: str) -> str:
    """A relative local location made absolute against the working directory, as MLflow's
    ``resolve_uri_if_local`` does (``./art`` and ``file:art`` would otherwise mean a different
    place for every process that reads them); any other location as it is."""
    if not is_local(uri) or _WINDOWS_DRIVE.match(uri):
        return uri
    parts = urlsplit(uri)
    if parts.scheme == "file":
        if parts.netloc or os.path.isabs(parts.path):
            return uri
        return "file://" + os.path.abspath(unquote(parts.path))
    return uri if os.path.isabs(uri) else os.path.abspath(uri)


_WINDOWS_DRIVE = re.compile(r"[A-Za-z]:[\\/]")


def _control_free(value: str, what: str, original: str | None = None) -> None:
    if value != value.strip() or any(ord(c) < 32 or ord(c) == 127 for c in value):
        shown = value if original is None else original
        raise InvalidParameter(
            f"Invalid {what} {shown!r}: it has surrounding spaces or control characters "
            "(also percent-encoded)"
        )


def _no_dot_dot(value: str, decoded: str, what: str) -> None:
    # Split at every separator a path, query or parameter list may use.
    if ".." in re.split(r"[/\\?&=;]", decoded):
        raise InvalidParameter(
            f"Invalid {what} {value!r}: '..' path segments are not allowed (also percent-encoded)"
        )


def _host_allowed(host: str, port: int | None, allowed: frozenset[str]) -> bool:
    if "*" in allowed or host in allowed or f"[{host}]" in allowed:
        return True
    return port is not None and bool({f"{host}:{port}", f"[{host}]:{port}"} & allowed)


@dataclass(frozen=True, slots=True)
class LocationPolicy:
    """What :func:`check_location` accepts.

    Attributes:
        schemes: allowed schemes (``file`` covers plain paths).
        hosts: hosts (``name`` or ``name:port``; ``*`` for any) that ``mlflow-artifacts:``,
            ``http(s)``, ``ftp``... locations may name.
        local_roots: directories local locations must lie in; ``None`` allows any (a library
            user's own machine), a tracking server sets its artifact roots.
    """

    schemes: frozenset[str] = DEFAULT_SCHEMES
    hosts: frozenset[str] = frozenset()
    local_roots: tuple[str, ...] | None = None

    @classmethod
    def from_settings(cls) -> LocationPolicy:
        """The defaults widened by ``MLFLOWX_ALLOWED_ARTIFACT_SCHEMES``/``..._HOSTS``."""
        return cls(
            schemes=DEFAULT_SCHEMES | settings.allowed_artifact_schemes(),
            hosts=settings.allowed_artifact_hosts(),
        )

    def confined_to(self, roots: Iterable[str | None]) -> LocationPolicy:
        """This policy with local locations confined to the local ones among ``roots``."""
        local = tuple(dict.fromkeys(r for r in roots if r and is_local(r)))
        return replace(self, local_roots=local)

    def check(self, uri: str, what: str = "artifact_location") -> str:
        """``uri`` if it is an acceptable location; else :class:`InvalidParameter` naming
        ``what`` and the reason."""
        return check_location(uri, self, what)


def check_location(
    uri: str, policy: LocationPolicy | None = None, what: str = "artifact_location"
) -> str:
    """``uri`` if it is an acceptable storage location under ``policy`` (by default the
    settings' one, with no local confinement).

    Raises:
        InvalidParameter: the location has a fragment, query or parameters, a ``..`` segment
            (after decoding), a scheme or host that is not allowed, or lies outside the local
            roots.
    """
    policy = policy if policy is not None else LocationPolicy.from_settings()
    if not isinstance(uri, str) or not uri:
        raise InvalidParameter(f"Invalid {what}: it must be a non-empty string")
    _control_free(uri, what)
    decoded = decode_until_stable(uri, what)
    _control_free(decoded, what, uri)
    if any(c in decoded for c in "#?;"):
        raise InvalidParameter(
            f"Invalid {what} {uri!r}: a storage location cannot have a fragment (#), a query (?) "
            "or parameters (;), also percent-encoded"
        )
    _no_dot_dot(uri, decoded, what)
    scheme = scheme_of(uri)
    if scheme not in policy.schemes:
        raise InvalidParameter(
            f"Invalid {what} {uri!r}: the scheme {scheme!r} is not allowed (allowed: "
            f"{', '.join(sorted(policy.schemes))}); {_SETTINGS_HINT}"
        )
    explicit_scheme = len(urlsplit(uri).scheme) > 1
    if explicit_scheme and "\\" in uri:
        raise InvalidParameter(f"Invalid {what} {uri!r}: backslashes are not allowed in a URI")
    _check_host(uri, scheme, policy, what)
    if scheme == "file" and policy.local_roots is not None:
        _check_confined(uri, policy.local_roots, what)
    return uri


def _check_host(uri: str, scheme: str, policy: LocationPolicy, what: str) -> None:
    parts = urlsplit(uri)
    if scheme in BUCKET_SCHEMES:
        return
    if scheme == "file":
        if parts.netloc.lower() not in _LOCALHOST:
            raise InvalidParameter(
                f"Invalid {what} {uri!r}: a local location cannot name a host "
                f"({parts.netloc!r}); use a path on this machine"
            )
        return
    if not parts.netloc:
        return  # no host named: the configured one (for mlflow-artifacts: the client's server)
    try:
        host, port = (parts.hostname or ""), parts.port
    except ValueError:
        raise InvalidParameter(f"Invalid {what} {uri!r}: its port is not a number") from None
    if "@" in parts.netloc or not host:
        raise InvalidParameter(
            f"Invalid {what} {uri!r}: a storage location cannot carry credentials"
        )
    if not _host_allowed(host, port, policy.hosts):
        raise InvalidParameter(
            f"Invalid {what} {uri!r}: the host {parts.netloc!r} is not allowed; an operator can "
            "allow it with MLFLOWX_ALLOWED_ARTIFACT_HOSTS (mlflowx server --allowed-artifact-hosts)"
        )


def _within(path: str, root: str) -> bool:
    return path == root or os.path.commonpath([root, path]) == root


def _check_confined(uri: str, roots: tuple[str, ...], what: str) -> None:
    from mlflowx.store.artifacts.local import local_path_from_uri

    real = os.path.realpath(local_path_from_uri(uri))
    for root in roots:
        if _within(real, os.path.realpath(local_path_from_uri(root))):
            return
    raise InvalidParameter(
        f"Invalid {what} {uri!r}: a local location must be inside this server's artifact "
        "root; an operator can allow more directories with MLFLOWX_ALLOWED_ARTIFACT_ROOTS "
        "(mlflowx server --allowed-artifact-roots)"
    )


def check_source(source: str, what: str = "model version source") -> str:
    """``source`` if it has no fragment, control characters or ``..`` segment (after
    percent-decoding until stable); queries are kept, as MLflow does."""
    _control_free(source, what)
    decoded = decode_until_stable(source, what)
    _control_free(decoded, what, source)
    if "#" in decoded:
        raise InvalidParameter(
            f"Invalid {what} {source!r}: it cannot have a fragment (#), also percent-encoded"
        )
    _no_dot_dot(source, decoded, what)
    return source
