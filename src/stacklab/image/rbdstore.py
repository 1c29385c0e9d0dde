"""glance_store's rbd store: image bytes as RBD images in the lab's Ceph ``images`` pool.

``[glance_store] default_store = rbd`` (with ``stores`` naming rbd) puts new images'
bytes on the storage nodes instead of the file store: glance-api on either controller
reads them, so an image outlives the controller it was uploaded through, which the
file store of one controller does not promise (lab.md: "the default filesystem store is
a single point of failure unless a shared backend (rbd, swift) is used").

When the cluster cannot serve, the store's connection fails after
``rados_connect_timeout`` with glance_store's BackendException, which glance does not
map: the upload or download answers 500 (glance's webob error, no traceback), and an
upload puts the image back to ``queued`` (glance's ``_restore``).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

from stacklab.ha.ceph import RadosClient, RadosError
from stacklab.image.filestore import CHUNK, FileStore, SizeLimitExceeded, StoredData

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


class StoreUnavailable(Exception):
    """glance_store's BackendException: "Error connecting to ceph cluster."."""


class RbdStore(FileStore):
    store_id = "rbd"

    def __init__(self, client: RadosClient) -> None:
        # Nothing is kept on the controller's disk (no root): the bytes are the cluster's.
        self.client = client
        self._temporary = False

    def _cluster_op(self, name: str, write: bool, session: Session | None = None) -> None:
        reason = self.client.now().blocked(self.client.pool, name, write=write,
                                           session=session)
        if reason is not None:
            raise StoreUnavailable(f"Error connecting to ceph cluster: {reason}")

    async def ready(self, image_id: str | None = None) -> None:
        try:
            await self.client.ready(image_id)
        except RadosError as error:
            raise StoreUnavailable(f"Error connecting to ceph cluster: {error}") from None

    async def write(self, image_id: str, chunks: AsyncIterator[bytes], limit: int) -> StoredData:
        data = bytearray()
        async for chunk in chunks:
            data += chunk
            if len(data) > limit:
                raise SizeLimitExceeded(len(data))
        try:
            await self.client.ready(image_id, write=True)
        except RadosError as error:
            raise StoreUnavailable(f"Error connecting to ceph cluster: {error}") from None
        return self.write_bytes(image_id, bytes(data))

    def write_bytes(self, image_id: str, data: bytes, *,
                    session: Session | None = None) -> StoredData:
        self._cluster_op(image_id, write=True, session=session)
        self.client.now().write(self.client.pool, image_id, data, session=session)
        return StoredData(len(data), hashlib.md5(data, usedforsecurity=False).hexdigest(),
                          hashlib.sha512(data).hexdigest())

    def read(self, image_id: str) -> Iterator[bytes]:
        self._cluster_op(image_id, write=False)
        data = self.client.now().read(self.client.pool, image_id) or b""
        for start in range(0, len(data), CHUNK):
            yield data[start:start + CHUNK]

    def exists(self, image_id: str) -> bool:
        self._cluster_op(image_id, write=False)
        return self.client.now().exists(self.client.pool, image_id)

    def delete(self, image_id: str, *, session: Session | None = None) -> None:
        # glance deletes the record even when the store fails (the data is left behind,
        # as glance logs "Failed to delete image ... in store").
        try:
            self._cluster_op(image_id, write=True, session=session)
        except StoreUnavailable:
            return
        self.client.now().remove(self.client.pool, image_id, session=session)

    def close(self) -> None:
        return
