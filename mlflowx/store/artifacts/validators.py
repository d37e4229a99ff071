"""An HTTP entity tag for a stored file, from what its store reports about it.

The artifact proxy sends it as ``ETag`` and compares a resumed download's ``If-Range`` with it,
so a file replaced between two requests (even by one of the same size) is sent whole again
instead of being spliced onto the old copy's first bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

__all__ = ["entity_tag"]

#: Where fsspec filesystems put an object's own entity tag (S3 and Azure quote it, GCS not).
_ETAG_KEYS = ("ETag", "etag", "e_tag")
#: Else a modification time: S3, GCS, Azure, local/SFTP, fsspec's in-memory store.
_TIME_KEYS = ("LastModified", "updated", "last_modified", "mtime", "modified", "created")


def entity_tag(info: Mapping[str, Any]) -> str | None:
    """A strong entity tag (quoted) for the file ``info`` describes (an fsspec ``info`` dict);
    ``None`` when the store reports nothing that changes with the content.

    The store's own tag where it has one (S3's is the MD5 of the content or of its parts);
    else one derived from the modification time and the size, as Starlette's ``FileResponse``
    does for local files.
    """
    for key in _ETAG_KEYS:
        tag = info.get(key)
        if isinstance(tag, str) and tag and not tag.startswith("W/"):
            inner = tag.strip('"')
            return f'"{inner}"' if inner and '"' not in inner else None
    for key in _TIME_KEYS:
        stamp = info.get(key)
        if stamp is not None and stamp != "":
            digest = hashlib.sha256(f"{stamp!s}|{info.get('size')}".encode()).hexdigest()
            return f'"{digest[:32]}"'
    return None
