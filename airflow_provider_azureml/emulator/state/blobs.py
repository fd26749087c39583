"""Blob storage on disk, for snapshot uploads, and the content store that snapshots are rebuilt from.

Blobs live under ``<root>/blobs/<container>/<name>``; uncommitted blocks (files over 64 MiB arrive as
``comp=block`` parts, then a ``comp=blocklist``) under ``<root>/blocks``. Once a snapshot is created,
its files are copied to ``<root>/files/<sha512>`` keyed by the SDK's own file hash (see
:func:`file_hash`), so any later snapshot that only lists the hash (the SDK uploads diffs) finds them.
Files rather than memory: snapshots can be large, and with ``--state`` they must survive a restart.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from airflow_provider_azureml.emulator.wire.errors import BadRequest, Conflict, NotFound


def file_hash(content: bytes, name: str) -> str:
    """The snapshot tree's file hash: sha512 of the bytes, the base name and ``"File"`` (merkle_tree.py)."""
    digest = hashlib.sha512(content)
    digest.update(name.encode())
    digest.update(b"File")
    return digest.hexdigest()


def _safe_relative(path: str) -> PurePosixPath:
    """A blob name as a relative path that cannot climb out of its directory."""
    relative = PurePosixPath(path.lstrip("/"))
    if not relative.parts or any(part in ("..", ".", "") for part in relative.parts):
        raise BadRequest(f"Invalid blob name '{path}'.", target="blob")
    return relative


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        for sub in ("blobs", "blocks", "files"):
            (root / sub).mkdir(parents=True, exist_ok=True)

    def _blob(self, name: str) -> Path:
        return self.root / "blobs" / _safe_relative(name)

    def _blocks(self, name: str) -> Path:
        return self.root / "blocks" / hashlib.sha256(name.encode()).hexdigest()

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, path)

    def put(self, name: str, data: bytes, *, if_none_match: bool) -> None:
        """Put Blob; with ``If-None-Match: *`` an existing blob is a 409, as on the service."""
        path = self._blob(name)
        if if_none_match and path.exists():
            raise Conflict(f"The blob '{name}' already exists.", target="blob")
        self._write(path, data)

    def put_block(self, name: str, block_id: str, data: bytes) -> None:
        self._write(self._blocks(name) / _block_file(block_id), data)

    def commit_blocks(self, name: str, block_ids: Iterable[str], *, if_none_match: bool) -> None:
        """Put Block List: the blob becomes the named blocks, in order; the staged blocks are dropped."""
        staged = self._blocks(name)
        parts = []
        for block_id in block_ids:
            part = staged / _block_file(block_id)
            if not part.exists():
                raise BadRequest(f"Block '{block_id}' of blob '{name}' was never uploaded.", target="blockid")
            parts.append(part.read_bytes())
        self.put(name, b"".join(parts), if_none_match=if_none_match)
        shutil.rmtree(staged, ignore_errors=True)

    def size(self, name: str) -> int:
        path = self._blob(name)
        if not path.is_file():
            raise NotFound(f"The blob '{name}' does not exist.", target="blob")
        return path.stat().st_size

    def read(self, name: str) -> bytes:
        self.size(name)
        return self._blob(name).read_bytes()

    # -- content by file hash ---------------------------------------------------------------------------
    def keep_file(self, digest: str, content: bytes) -> None:
        path = self.root / "files" / digest
        if not path.exists():
            self._write(path, content)

    def has_file(self, digest: str) -> bool:
        return (self.root / "files" / digest).is_file()

    def file_path(self, digest: str) -> Path:
        return self.root / "files" / digest

    def read_file(self, digest: str) -> bytes:
        return self.file_path(digest).read_bytes()


def _block_file(block_id: str) -> str:
    """Block ids are base64 text; their bytes in hex make a safe file name."""
    try:
        return base64.b64decode(block_id, validate=True).hex() or "empty"
    except ValueError:
        raise BadRequest(f"Block id '{block_id}' is not base64.", target="blockid") from None
