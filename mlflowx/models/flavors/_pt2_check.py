"""Is a ``torch.export`` archive (``model.pt2``) free of pickles that could run code?

``torch.export.load`` unpickles the archive's weights and constants with ``weights_only=False``
(and may dlopen AOTInductor libraries), so a crafted archive runs code as it loads. An archive
``torch.export.save`` wrote for a plain model holds only JSON and short text records, raw tensor
bytes, and ``torch.save`` checkpoints of tensors. This check reads every record without
unpickling anything: each checkpoint's pickle streams may name only the globals torch's own
``weights_only`` unpickler allows (user-registered safe globals do not count here, so nothing a
process registered widens what a model file may reference).
"""

from __future__ import annotations

import io
import json
import pickletools
import re
import zipfile
from pathlib import Path
from typing import Any

__all__ = ["first_unsafe_record"]

_TEXT_RECORDS = {"version", "archive_format", "archive_version", "byteorder", "serialization_id"}
_TEXT_CONTENT = re.compile(rb"[A-Za-z0-9._-]{1,64}\n?")
_PAYLOAD_CONFIG = re.compile(r"(?:^|/)data/(?:weights|constants)/[^/]+_config\.json$")
_RAW_PREFIXES = ("weight_", "tensor_")
_STRINGS = {
    "STRING",
    "BINSTRING",
    "SHORT_BINSTRING",
    "UNICODE",
    "SHORT_BINUNICODE",
    "BINUNICODE",
    "BINUNICODE8",
}
_MEMO = {"PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE"}


def _json(content: bytes) -> Any:
    try:
        return json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def _raw_tensor_records(archive: zipfile.ZipFile) -> set[str]:
    """Records the payload configs say are read as raw bytes (``use_pickle: false``)."""
    raw: set[str] = set()
    pickled: set[str] = set()
    for name in archive.namelist():
        if not _PAYLOAD_CONFIG.search(name):
            continue
        config = _json(archive.read(name))
        entries = config.get("config") if isinstance(config, dict) else None
        if not isinstance(entries, dict):
            continue
        folder = name.rsplit("/", 1)[0]
        for entry in entries.values():
            path_name = entry.get("path_name") if isinstance(entry, dict) else None
            if not isinstance(path_name, str) or "/" in path_name:
                continue
            record = f"{folder}/{path_name}"
            if entry.get("use_pickle") is False and path_name.startswith(_RAW_PREFIXES):
                raw.add(record)
            else:
                pickled.add(record)
    return raw - pickled


def _globals(stream: bytes) -> set[str]:
    """The ``module.name`` globals a pickle stream references (it is parsed, never run)."""
    found: set[str] = set()
    strings: list[str] = []
    for opcode, arg, _ in pickletools.genops(stream):
        if opcode.name == "GLOBAL":
            module, name = str(arg).split(" ", 1)
            found.add(f"{module}.{name}")
        elif opcode.name == "STACK_GLOBAL":
            if len(strings) < 2:
                raise ValueError("STACK_GLOBAL operands are not string literals")
            found.add(f"{strings[-2]}.{strings[-1]}")
            strings = []
        elif opcode.name in _STRINGS:
            strings.append(str(arg))
        elif opcode.name not in _MEMO:
            strings = []
    return found


def _tensor_checkpoint(content: bytes, allowed: set[str]) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as checkpoint:
            streams = [n for n in checkpoint.namelist() if n.rsplit("/", 1)[-1] == "data.pkl"]
            return bool(streams) and all(_globals(checkpoint.read(n)) <= allowed for n in streams)
    except (zipfile.BadZipFile, ValueError):
        return False


def first_unsafe_record(file: Path) -> str | None:
    """The first record of the archive at ``file`` that could run code as it loads (the file
    name itself when it is no zip archive), or None when every record is safe to read."""
    from torch._weights_only_unpickler import _get_allowed_globals

    allowed = set(_get_allowed_globals())
    try:
        archive = zipfile.ZipFile(file)
    except zipfile.BadZipFile:
        return file.name
    with archive:
        raw = _raw_tensor_records(archive)
        for info in archive.infolist():
            if info.is_dir() or info.filename in raw:
                continue
            content = archive.read(info)
            leaf = info.filename.rsplit("/", 1)[-1]
            if leaf in _TEXT_RECORDS and _TEXT_CONTENT.fullmatch(content):
                continue
            if _json(content) is not None or _tensor_checkpoint(content, allowed):
                continue
            return info.filename
    return None
