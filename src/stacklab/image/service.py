"""Image (glance) domain logic: images, their data, visibility, membership."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.api.context import RequestContext
from stacklab.api.errors import BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge
from stacklab.clock import Clock
from stacklab.ids import IdSource
from stacklab.image import models as m
from stacklab.image.filestore import FileStore, SizeLimitExceeded
from stacklab.store.database import Database

DISK_FORMATS = ("ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso",
                "ploop")
CONTAINER_FORMATS = ("ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed")
VISIBILITIES = ("public", "private", "shared", "community")
# Attributes glance computes itself: a client may read them, never set them.
READ_ONLY = frozenset({"status", "size", "virtual_size", "checksum", "os_hash_algo",
                       "os_hash_value", "created_at", "updated_at", "file", "self", "schema",
                       "direct_url", "locations", "stores", "deleted", "deleted_at"})
CORE = frozenset({"id", "name", "visibility", "protected", "os_hidden", "owner", "min_ram",
                  "min_disk", "disk_format", "container_format", "tags", *READ_ONLY})


@dataclass(frozen=True)
class ImageOptions:
    """glance-api.conf's [DEFAULT] options that shape behaviour."""

    image_size_cap: int = 1099511627776  # 1 TiB, glance's default
    user_storage_quota: int = 0  # bytes per project; 0 means unlimited
    limit_param_default: int = 25
    api_limit_max: int = 1000


class ImageService:
    def __init__(self, db: Database, clock: Clock, ids: IdSource, store: FileStore,
                 options: ImageOptions | None = None) -> None:
        self.db = db
        self.clock = clock
        self.ids = ids.stream("image")
        self.store = store
        self.options = options or ImageOptions()

    # -- visibility --------------------------------------------------------------------

    def can_see(self, session: Session, context: RequestContext, image: m.Image) -> bool:
        if context.is_admin or image.visibility in ("public", "community"):
            return True
        if image.owner is not None and image.owner == context.project_id:
            return True
        if image.visibility == "shared" and context.project_id:
            return session.get(m.ImageMember, (image.id, context.project_id)) is not None
        return False

    def get(self, session: Session, context: RequestContext, image_id: str) -> m.Image:
        image = session.get(m.Image, image_id)
        if image is None or not self.can_see(session, context, image):
            raise NotFound(f"No image found with ID {image_id}")
        return image

    def list_images(self, session: Session, context: RequestContext,
             filters: Mapping[str, Any]) -> list[m.Image]:
        query = select(m.Image)
        for name in ("id", "name", "status", "owner", "disk_format", "container_format"):
            wanted = filters.get(name)
            if isinstance(wanted, list):
                query = query.where(getattr(m.Image, name).in_(wanted))
            elif wanted is not None:
                query = query.where(getattr(m.Image, name) == wanted)
        visibility = filters.get("visibility")
        if visibility not in (None, "all"):
            query = query.where(m.Image.visibility == visibility)
        if filters.get("protected") is not None:
            query = query.where(m.Image.protected == filters["protected"])
        hidden = filters.get("os_hidden")
        query = query.where(m.Image.os_hidden == (hidden is True))
        images = list(session.scalars(query))
        member_status = filters.get("member_status", "accepted")
        memberships = {row.image_id: row.status for row in session.scalars(
            select(m.ImageMember).where(m.ImageMember.member_id == (context.project_id or "")))}
        result = []
        for image in images:
            mine = image.owner is not None and image.owner == context.project_id
            if image.visibility == "community" and visibility != "community" and not mine:
                continue
            if not context.is_admin and not mine:
                if image.visibility == "private":
                    continue
                if image.visibility == "shared":
                    status = memberships.get(image.id)
                    if status is None or (member_status != "all" and status != member_status):
                        continue
            if filters.get("tag") and not set(filters["tag"]) <= set(image.tags):
                continue
            if filters.get("size_min") is not None and (image.size or 0) < filters["size_min"]:
                continue
            if filters.get("size_max") is not None and (image.size or 0) > filters["size_max"]:
                continue
            if any(image.properties.get(k) != v for k, v in filters.get("properties", {}).items()):
                continue
            if not all(_compare(getattr(image, name), filters[name])
                       for name in ("created_at", "updated_at") if filters.get(name)):
                continue
            result.append(image)
        return result

    # -- create, update, delete --------------------------------------------------------

    def create(self, session: Session, context: RequestContext,
               fields: Mapping[str, Any]) -> m.Image:
        for name in fields:
            if name in READ_ONLY:
                raise Forbidden(f"Attribute '{name}' is read-only.")
        image_id = fields.get("id") or self.ids.uuid()
        try:
            image_id = str(uuid.UUID(str(image_id)))
        except ValueError:
            raise BadRequest(f"Invalid input for field 'id': {image_id!r} is not a UUID") \
                from None
        if session.get(m.Image, image_id) is not None:
            raise Conflict(f"Image with identifier {image_id} already exists!")
        now = self.clock.now()
        owner = fields.get("owner") if context.is_admin and fields.get("owner") else \
            context.project_id
        image = m.Image(
            id=image_id, name=fields.get("name"), status="queued",
            visibility=fields.get("visibility", "shared"),
            protected=bool(fields.get("protected", False)),
            os_hidden=bool(fields.get("os_hidden", False)), owner=owner,
            min_ram=int(fields.get("min_ram", 0)), min_disk=int(fields.get("min_disk", 0)),
            disk_format=fields.get("disk_format"), container_format=fields.get("container_format"),
            created_at=now, updated_at=now, tags=list(dict.fromkeys(fields.get("tags", []))),
            properties={k: v for k, v in fields.items() if k not in CORE}, stores=[],
        )
        session.add(image)
        return image

    def update(self, session: Session, image: m.Image, changes: Mapping[str, Any],
               removed: set[str]) -> m.Image:
        for name in (*changes, *removed):
            if name in READ_ONLY or name == "id":
                raise Forbidden(f"Attribute '{name}' is read-only.")
        for name in removed:
            if name in CORE:
                raise Forbidden(f"Attribute '{name}' is reserved.")
            if name not in image.properties:
                raise Conflict(f"Property {name} does not exist.")
        if image.status != "queued":
            for name in ("disk_format", "container_format"):
                if name in changes and changes[name] != getattr(image, name):
                    raise Forbidden(f"Attribute {name} can be only replaced for a queued image.")
        properties = {k: v for k, v in image.properties.items() if k not in removed}
        for name, value in changes.items():
            if name in CORE:
                setattr(image, name, list(dict.fromkeys(value)) if name == "tags" else value)
            else:
                properties[name] = value
        image.properties = properties
        image.updated_at = self.clock.now()
        return image

    def delete(self, session: Session, image: m.Image) -> None:
        if image.protected:
            raise Forbidden(f"Image {image.id} is protected and cannot be deleted.")
        session.delete(image)
        self.store.delete(image.id)

    def set_status(self, session: Session, image: m.Image, status: str) -> None:
        image.status = status
        image.updated_at = self.clock.now()

    # -- data --------------------------------------------------------------------------

    def begin_upload(self, image_id: str, context: RequestContext,
                     status: str = "saving") -> int:
        """Move a queued image to saving (or uploading, when staged); returns the byte budget."""
        with self.db.session() as session:
            image = self.get(session, context, image_id)
            if image.status not in ("queued",):
                raise Conflict(f"Image status transition from {image.status} to {status} is "
                               "not allowed")
            image.status = status
            image.updated_at = self.clock.now()
            limit = self.options.image_size_cap
            quota = self.options.user_storage_quota
            if quota:
                used = sum(i.size or 0 for i in session.scalars(
                    select(m.Image).where(m.Image.owner == image.owner)))
                limit = min(limit, max(quota - used, 0))
            return limit

    async def upload(self, image_id: str, context: RequestContext,
                     chunks: AsyncIterator[bytes], *, staged: bool = False) -> None:
        """Store an image's data; a staged upload (glance-direct) waits for the import call."""
        limit = self.begin_upload(image_id, context, "uploading" if staged else "saving")
        try:
            stored = await self.store.write(image_id, chunks, limit)
        except SizeLimitExceeded:
            self._back_to_queued(image_id)
            raise PayloadTooLarge(f"Image exceeds the storage quota or the size cap of "
                                  f"{limit} bytes.") from None
        except BaseException:
            # A client that hangs up leaves the image queued, as glance does.
            self._back_to_queued(image_id)
            raise
        with self.db.session() as session:
            image = session.get(m.Image, image_id)
            if image is None:  # deleted while uploading
                self.store.delete(image_id)
                raise Conflict(f"Image {image_id} was deleted during the upload.")
            image.size, image.checksum = stored.size, stored.md5
            image.os_hash_algo, image.os_hash_value = "sha512", stored.sha512
            image.virtual_size = None
            if not staged:
                image.stores = [self.store.store_id]
                image.status = "active"
            image.updated_at = self.clock.now()

    def import_staged(self, session: Session, image: m.Image, method: str) -> None:
        """glance-direct: move staged data into the store and activate the image."""
        if method != "glance-direct":
            raise BadRequest(f"Import method {method} is not supported; available: "
                             "glance-direct")
        if image.status != "uploading":
            raise Conflict(f"Image {image.id} is not in a valid state for import: "
                           f"{image.status}; stage its data first")
        # Glance imports in the background (status "importing"); ours completes at once.
        image.stores = [self.store.store_id]
        image.status = "active"
        image.updated_at = self.clock.now()

    def _back_to_queued(self, image_id: str) -> None:
        with self.db.session() as session:
            image = session.get(m.Image, image_id)
            if image is not None and image.status in ("saving", "uploading"):
                image.status = "queued"

    def register_builtin(self, image_id: str, name: str, data: bytes,
                         properties: Mapping[str, Any]) -> None:
        """An image that exists from the first start (the lab's cirros), public and active."""
        with self.db.session() as session:
            if session.get(m.Image, image_id) is not None:
                return
            stored = self.store.write_bytes(image_id, data)
            now = self.clock.now()
            session.add(m.Image(
                id=image_id, name=name, status="active", visibility="public", protected=False,
                os_hidden=False, owner=None, size=stored.size, virtual_size=None,
                checksum=stored.md5, os_hash_algo="sha512", os_hash_value=stored.sha512,
                min_ram=0, min_disk=0, disk_format="qcow2", container_format="bare",
                created_at=now, updated_at=now, properties=dict(properties), tags=[],
                stores=[self.store.store_id]))

    def store_data(self, image_id: str, data: bytes) -> bool:
        """Give a queued image its bytes and make it active (a server snapshot's upload).
        False when the image was deleted meanwhile."""
        with self.db.session() as session:
            image = session.get(m.Image, image_id)
            if image is None:
                return False
            stored = self.store.write_bytes(image_id, data)
            image.size = stored.size
            image.checksum = stored.md5
            image.os_hash_algo = "sha512"
            image.os_hash_value = stored.sha512
            image.stores = [self.store.store_id]
            image.status = "active"
            image.updated_at = self.clock.now()
            return True

    def read_data(self, image_id: str) -> bytes:
        """An image's bytes, or none when it has none (what a snapshot of it copies)."""
        if not self.store.exists(image_id):
            return b""
        return b"".join(self.store.read(image_id))

    # -- members -----------------------------------------------------------------------

    def members(self, session: Session, image: m.Image) -> list[m.ImageMember]:
        return list(session.scalars(select(m.ImageMember).where(
            m.ImageMember.image_id == image.id).order_by(m.ImageMember.created_at)))

    def add_member(self, session: Session, image: m.Image, member_id: str) -> m.ImageMember:
        if image.visibility != "shared":
            raise Forbidden("Only shared images have members.")
        if session.get(m.ImageMember, (image.id, member_id)) is not None:
            raise Conflict(f"Member {member_id} already exists for image {image.id}.")
        now = self.clock.now()
        member = m.ImageMember(image_id=image.id, member_id=member_id, status="pending",
                               created_at=now, updated_at=now)
        session.add(member)
        return member

    def get_member(self, session: Session, image: m.Image, member_id: str) -> m.ImageMember:
        member = session.get(m.ImageMember, (image.id, member_id))
        if member is None:
            raise NotFound(f"Member {member_id} not found for image {image.id}.")
        return member


def _compare(value: float, wanted: tuple[str, float]) -> bool:
    """One of glance's time filters, ``(operator, epoch seconds)``, on an image's time."""
    operator, moment = wanted
    return {"gt": value > moment, "gte": value >= moment, "eq": value == moment,
            "neq": value != moment, "lt": value < moment, "lte": value <= moment}[operator]
