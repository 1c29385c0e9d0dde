"""The filesystem store (glance's ``file`` backend): image bytes under the state directory."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

CHUNK = 64 * 1024


class SizeLimitExceeded(Exception):
    """The data is larger than the image size cap or the remaining storage quota."""


@dataclass(frozen=True)
class StoredData:
    size: int
    md5: str
    sha512: str


class FileStore:
    store_id = "file"

    def __init__(self, root: Path | None) -> None:
        # Ephemeral clouds keep their bytes in a private temporary folder.
        self._temporary = root is None
        self.root = root if root is not None else Path(tempfile.mkdtemp(prefix="stacklab-images-"))
        self.root.mkdir(parents=True, exist_ok=True)

    async def ready(self, image_id: str | None = None) -> None:
        """Whether the store can serve now (the file store always can; rbd waits)."""
        return

    def path(self, image_id: str) -> Path:
        return self.root / image_id

    async def write(self, image_id: str, chunks: AsyncIterator[bytes], limit: int) -> StoredData:
        """Stream data in, hashing as it goes; nothing is kept if it fails or is too big."""
        md5, sha512 = hashlib.md5(usedforsecurity=False), hashlib.sha512()
        size = 0
        partial = self.root / f".{image_id}.partial"
        try:
            with partial.open("wb") as handle:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise SizeLimitExceeded(size)
                    md5.update(chunk)
                    sha512.update(chunk)
                    handle.write(chunk)
            partial.replace(self.path(image_id))
        finally:
            partial.unlink(missing_ok=True)
        return StoredData(size, md5.hexdigest(), sha512.hexdigest())

    def write_bytes(self, image_id: str, data: bytes) -> StoredData:
        self.path(image_id).write_bytes(data)
        return StoredData(len(data), hashlib.md5(data, usedforsecurity=False).hexdigest(),
                          hashlib.sha512(data).hexdigest())

    def read(self, image_id: str) -> Iterator[bytes]:
        with self.path(image_id).open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    def exists(self, image_id: str) -> bool:
        return self.path(image_id).exists()

    def delete(self, image_id: str) -> None:
        self.path(image_id).unlink(missing_ok=True)

    def close(self) -> None:
        if self._temporary:
            shutil.rmtree(self.root, ignore_errors=True)
