"""The filesystem store (glance's ``file`` backend): image bytes under the state directory."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

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

    # ``session``: the caller's open transaction, which a store kept in the database
    # (the rbd store's cluster) takes part in; a file store has no use for it.
    def write_bytes(self, image_id: str, data: bytes, *,
                    session: Session | None = None) -> StoredData:
        self.path(image_id).write_bytes(data)
        return StoredData(len(data), hashlib.md5(data, usedforsecurity=False).hexdigest(),
                          hashlib.sha512(data).hexdigest())

    def seed(self, image_id: str, data: bytes) -> StoredData:
        """An image the lab starts with (its CirrOS), wherever glance-api may look for it."""
        return self.write_bytes(image_id, data)

    def read(self, image_id: str) -> Iterator[bytes]:
        with self.path(image_id).open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    def exists(self, image_id: str) -> bool:
        return self.path(image_id).exists()

    def delete(self, image_id: str, *, session: Session | None = None) -> None:
        self.path(image_id).unlink(missing_ok=True)

    def close(self) -> None:
        if self._temporary:
            shutil.rmtree(self.root, ignore_errors=True)


class ControllerFileStores(FileStore):
    """``[stacklab] glance_file_store_shared = false``: each controller's glance-api keeps
    its own ``filesystem_store_datadir`` (a local disk, as the file store is unless the
    operator mounts a share there), so the bytes of an image are on the controller whose
    glance-api took the upload, and only there: read through the other controller, the
    image has no data (glance's 204 on download). The course's "the filesystem store is a
    single point of failure" slide; the rbd store is the fix.

    ``serving()`` names the controller whose glance-api handles the current request (None
    outside a request: the first controller's). The lab's CirrOS is put in every
    controller's store (stacklab's choice: the lab boots whichever glance-api serves).
    """

    def __init__(self, root: Path | None, controllers: list[str],
                 serving: Callable[[], str | None]) -> None:
        if not controllers:
            raise ValueError("glance_file_store_shared = false: no controller runs glance-api")
        self._temporary = root is None
        self.root = root if root is not None else Path(tempfile.mkdtemp(prefix="stacklab-images-"))
        self.stores = {node: FileStore(self.root / node.split(".", 1)[0])
                       for node in controllers}
        self.default = controllers[0]
        self.serving = serving

    def here(self) -> FileStore:
        node = self.serving()
        return self.stores[node if node in self.stores else self.default]

    def path(self, image_id: str) -> Path:
        return self.here().path(image_id)

    async def write(self, image_id: str, chunks: AsyncIterator[bytes], limit: int) -> StoredData:
        return await self.here().write(image_id, chunks, limit)

    def write_bytes(self, image_id: str, data: bytes, *,
                    session: Session | None = None) -> StoredData:
        return self.here().write_bytes(image_id, data)

    def seed(self, image_id: str, data: bytes) -> StoredData:
        stored = [store.write_bytes(image_id, data) for store in self.stores.values()]
        return stored[0]

    def read(self, image_id: str) -> Iterator[bytes]:
        return self.here().read(image_id)

    def exists(self, image_id: str) -> bool:
        return self.here().exists(image_id)

    def delete(self, image_id: str, *, session: Session | None = None) -> None:
        # The other controllers' copies (the CirrOS's) stay, as glance deletes only the
        # location its own store holds.
        self.here().delete(image_id)
