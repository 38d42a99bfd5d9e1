"""One-file checkpoints: a ``.npz`` of plain numeric arrays plus JSON metadata inside.

Loading uses ``allow_pickle=False`` and never executes code. A file that is not a valid
archive, lacks the metadata, has another format version or another agent kind is
refused with a ``ValueError`` naming the problem.
"""
from __future__ import annotations

import json
import os
import zipfile
from typing import Any

import numpy as np

__all__ = ["save_checkpoint", "load_checkpoint", "FORMAT_VERSION"]

FORMAT_VERSION = 1
_META_KEY = "__metadata_json__"


def save_checkpoint(path: str | os.PathLike, arrays: dict[str, np.ndarray],
                    metadata: dict[str, Any]) -> str:
    """Write ``arrays`` and ``metadata`` (JSON-serialisable) to ONE ``.npz`` file.

    Returns the path written (``.npz`` appended when missing, as numpy does)."""
    path = os.fspath(path)
    if not path.endswith(".npz"):
        path += ".npz"
    if _META_KEY in arrays:
        raise ValueError(f"array name {_META_KEY!r} is reserved")
    meta = dict(metadata, format_version=FORMAT_VERSION)
    encoded = np.frombuffer(json.dumps(meta, sort_keys=True).encode("utf-8"), dtype=np.uint8)
    for name, value in arrays.items():
        if np.asarray(value).dtype == object:
            raise ValueError(f"array {name!r} has dtype object; checkpoints hold numbers only")
    np.savez(path, **{_META_KEY: encoded}, **arrays)
    return path


def load_checkpoint(path: str | os.PathLike, agent_kind: str) -> tuple[dict[str, np.ndarray],
                                                                     dict[str, Any]]:
    """Read a checkpoint written by :func:`save_checkpoint` for ``agent_kind``."""
    path = os.fspath(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError,
            NotImplementedError, RuntimeError) as error:
        # zipfile reports a damaged header as NotImplementedError ("compression method not
        # supported"), RuntimeError ("encrypted") or KeyError: all mean a damaged file.
        raise ValueError(f"{path}: not a valid checkpoint archive "
                         f"({type(error).__name__}: {error})") from None
    if _META_KEY not in arrays:
        raise ValueError(f"{path}: checkpoint has no metadata ({_META_KEY!r} missing)")
    try:
        meta = json.loads(arrays.pop(_META_KEY).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: checkpoint metadata is not valid JSON ({error})") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{path}: checkpoint metadata must be a JSON object")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path}: checkpoint format version {meta.get('format_version')!r}, "
                         f"expected {FORMAT_VERSION}")
    if meta.get("agent_kind") != agent_kind:
        raise ValueError(f"{path}: checkpoint is for agent kind {meta.get('agent_kind')!r}, "
                         f"not {agent_kind!r}")
    return arrays, meta
