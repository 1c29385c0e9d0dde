"""Image (glance) domain logic: images, their data, visibility, membership."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, select
from sqlalchemy.orm import Session

from stacklab.api.context import RequestContext
from stacklab.api.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
    glance_internal_error,
)
from stacklab.api.pagination import Dialect, PageRequest, Window, page_query
from stacklab.api.tag_filters import TagFilter
from stacklab.clock import Clock
from stacklab.ids import IdSource
from stacklab.image import models as m
from stacklab.image.filestore import FileStore, SizeLimitExceeded
from stacklab.image.inspection import (
    INSPECTED_CONTAINER,
    DataInspector,
    FormatPolicy,
    InvalidImageData,
    inspect,
)
from stacklab.image.metadefs import Metadefs
from stacklab.image.patch import ATTRIBUTES as PATCH_ATTRIBUTES
from stacklab.image.patch import RESERVED as PATCH_RESERVED
from stacklab.image.patch import RESERVED_PREFIX, Change, apply_changes
from stacklab.image.rbdstore import StoreUnavailable
from stacklab.image.tasks import Tasks
from stacklab.store.database import Database
from stacklab.store.sql import json_object_has

if TYPE_CHECKING:
    from stacklab.image.imports import Importer

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
# Image columns a list filters on by equality when named in the query (glance's db api
# compares any filter that is a column of the image table with the column, any other
# with the extra properties), with how the query's text becomes the column's value.
COLUMN_FILTERS: Mapping[str, Callable[[str], Any]] = {
    "size": int, "virtual_size": int, "min_ram": int, "min_disk": int,
    "checksum": str, "os_hash_algo": str, "os_hash_value": str,
}


@dataclass(frozen=True)
class ImageOptions:
    """glance-api.conf's [DEFAULT] options that shape behaviour."""

    image_size_cap: int = 1099511627776  # 1 TiB, glance's default
    user_storage_quota: int = 0  # bytes per project; 0 means unlimited
    limit_param_default: int = 25
    api_limit_max: int = 1000
    # [image_format]: how uploaded data is checked against its disk_format.
    formats: FormatPolicy = field(default_factory=FormatPolicy)


class ImageService:
    def __init__(self, db: Database, clock: Clock, ids: IdSource, store: FileStore,
                 options: ImageOptions | None = None) -> None:
        self.db = db
        self.clock = clock
        self.ids = ids.stream("image")
        self.store = store
        self.options = options or ImageOptions()
        self.metadefs = Metadefs(clock, self.ids)
        self.tasks = Tasks(clock, self.ids)
        # Built by the declaration (it needs the cloud's API for glance-download).
        self.importer: Importer | None = None

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

    def list_page(self, session: Session, context: RequestContext, filters: Mapping[str, Any],
                  request: PageRequest, dialect: Dialect) -> Window[Any]:
        """One page of the images a caller may list (rows of one ``Image``), cut in SQL."""
        order = [getattr(m.Image, key).desc() if direction == "desc" else
                 getattr(m.Image, key).asc() for key, direction in request.sort]
        return page_query(session, self._list_query(context, filters), id_column=m.Image.id,
                          order=[*order, m.Image.id.desc()], request=request, dialect=dialect)

    def _list_query(self, context: RequestContext, filters: Mapping[str, Any]) -> Select[Any]:
        image = m.Image
        query = select(image)
        for name in ("id", "name", "status", "owner", "disk_format", "container_format"):
            wanted = filters.get(name)
            if isinstance(wanted, list):
                query = query.where(getattr(image, name).in_(wanted))
            elif wanted is not None:
                query = query.where(getattr(image, name) == wanted)
        visibility = filters.get("visibility")
        if visibility not in (None, "all"):
            query = query.where(image.visibility == visibility)
        if filters.get("protected") is not None:
            query = query.where(image.protected == filters["protected"])
        query = query.where(image.os_hidden == (filters.get("os_hidden") is True))
        mine = and_(image.owner.is_not(None), image.owner == context.project_id)
        if visibility != "community":
            # Others' community images only when asked for by name (glance's "community").
            query = query.where(or_(image.visibility != "community", mine))
        if not context.is_admin:
            member_status = filters.get("member_status", "accepted")
            membership = select(1).where(m.ImageMember.image_id == image.id,
                                         m.ImageMember.member_id == (context.project_id or ""))
            if member_status != "all":
                membership = membership.where(m.ImageMember.status == member_status)
            query = query.where(or_(mine, image.visibility.in_(("public", "community")),
                                    and_(image.visibility == "shared", exists(membership))))
        query = query.where(*TagFilter(all_of=tuple(filters.get("tag") or ()) or None)
                            .conditions(image.tags))
        size = func.coalesce(image.size, 0)
        if filters.get("size_min") is not None:
            query = query.where(size >= filters["size_min"])
        if filters.get("size_max") is not None:
            query = query.where(size <= filters["size_max"])
        for name in ("created_at", "updated_at"):
            if filters.get(name):
                query = query.where(_compare(getattr(image, name), filters[name]))
        for key, value in filters.get("properties", {}).items():
            if key in COLUMN_FILTERS:
                query = query.where(_column_equals(getattr(image, key), COLUMN_FILTERS[key],
                                                   value))
                continue
            query = query.where(json_object_has(image.properties, key, value))
        return query

    # -- create, update, delete --------------------------------------------------------

    def create(self, session: Session, context: RequestContext,
               fields: Mapping[str, Any]) -> m.Image:
        for name in fields:
            if name in READ_ONLY:
                raise Forbidden(f"Attribute '{name}' is read-only.")
            if name not in CORE and len(name) > 255:
                raise BadRequest("Custom property should not be greater than 255 characters.")
            if name in PATCH_RESERVED or name.startswith(RESERVED_PREFIX):
                raise Forbidden(f"Attribute '{name}' is reserved.")
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

    def patch(self, session: Session, context: RequestContext, image: m.Image,
              changes: list[Change], draft: int) -> m.Image:
        """Apply a JSON patch (either dialect, ``image/patch.py``) to an image."""
        current = {name: getattr(image, name) for name in PATCH_ATTRIBUTES}
        patched = apply_changes(current, image.properties, changes, draft,
                                is_admin=context.is_admin)
        if image.status != "queued":
            for name in ("disk_format", "container_format"):
                if patched.attributes[name] != current[name]:
                    raise Forbidden(f"Attribute {name} can be only replaced for a queued image.")
        for name in patched.changed & PATCH_ATTRIBUTES:
            value = patched.attributes[name]
            setattr(image, name, list(dict.fromkeys(value)) if name == "tags" else value)
        image.properties = patched.properties
        if patched.changed:
            image.updated_at = self.clock.now()
        return image

    def delete(self, session: Session, image: m.Image) -> None:
        if image.protected:
            raise Forbidden(f"Image {image.id} is protected and cannot be deleted.")
        session.delete(image)
        self.store.delete(image.id, session=session)

    def set_status(self, session: Session, image: m.Image, status: str) -> None:
        image.status = status
        image.updated_at = self.clock.now()

    # -- data --------------------------------------------------------------------------

    def begin_upload(self, image_id: str, context: RequestContext,
                     status: str = "saving") -> Upload:
        """Move a queued image to saving (or uploading, when staged): its byte budget and
        whether its data is inspected on the way in."""
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
            return Upload(limit, image.disk_format,
                          inspected=image.container_format == INSPECTED_CONTAINER)

    async def upload(self, image_id: str, context: RequestContext,
                     chunks: AsyncIterator[bytes], *, staged: bool = False) -> None:
        """Store an image's data; a staged upload (glance-direct) waits for the import call,
        which inspects it (glance's stage call does not)."""
        plan = self.begin_upload(image_id, context, "uploading" if staged else "saving")
        inspector = DataInspector() if plan.inspected and not staged else None
        try:
            stored = await self.store.write(image_id, _watched(chunks, inspector), plan.limit)
            virtual_size = inspector.check(plan.disk_format, self.options.formats) \
                if inspector is not None else None
        except SizeLimitExceeded:
            self._back_to_queued(image_id)
            raise PayloadTooLarge(f"Image exceeds the storage quota or the size cap of "
                                  f"{plan.limit} bytes.") from None
        except InvalidImageData as exc:
            # glance answers 415 and puts the image back to queued; the refused bytes are
            # not kept.
            self.store.delete(image_id)
            self._back_to_queued(image_id)
            raise UnsupportedMediaType(str(exc)) from None
        except StoreUnavailable:
            # glance: "Failed to upload image data due to internal error", the image
            # restored to queued, a 500.
            self._back_to_queued(image_id)
            raise glance_internal_error("glance_store.exceptions.BackendException") from None
        except BaseException:
            # A client that hangs up leaves the image queued, as glance does.
            self._back_to_queued(image_id)
            raise
        finally:
            if inspector is not None:
                inspector.close()
        with self.db.session() as session:
            image = session.get(m.Image, image_id)
            if image is None:  # deleted while uploading
                self.store.delete(image_id, session=session)
                raise Conflict(f"Image {image_id} was deleted during the upload.")
            image.size, image.checksum = stored.size, stored.md5
            image.os_hash_algo, image.os_hash_value = "sha512", stored.sha512
            if plan.inspected and not staged:
                # Uninspected (not bare) data leaves the virtual size as it was, as in glance.
                image.virtual_size = virtual_size
            if not staged:
                image.stores = [self.store.store_id]
                image.status = "active"
            image.updated_at = self.clock.now()

    def activate_staged(self, image_id: str) -> None:
        """glance-direct's end: the staged data, inspected as an upload's, becomes the
        image's, in the store. Refused data is dropped and the image is queued again; the
        error (glance's message) is the import task's failure."""
        with self.db.session() as session:
            image = self._staged(session, image_id)
            inspected = image.container_format == INSPECTED_CONTAINER
            disk_format = image.disk_format
        virtual_size = None
        # The import writes the staged bytes into the store: a store that cannot take them
        # fails the import task with glance_store's message (StoreUnavailable), the image
        # staged still.
        self.store.exists(image_id)
        if inspected:
            try:
                virtual_size = inspect(self.store.read(image_id), disk_format,
                                       self.options.formats)
            except InvalidImageData as exc:
                self.store.delete(image_id)
                with self.db.session() as session:
                    image = self._staged(session, image_id)
                    image.status = "queued"
                    image.size = image.checksum = None
                    image.os_hash_algo = image.os_hash_value = None
                    image.updated_at = self.clock.now()
                raise UnsupportedMediaType(str(exc)) from None
        with self.db.session() as session:
            image = self._staged(session, image_id)
            if inspected:
                image.virtual_size = virtual_size
            image.stores = [self.store.store_id]
            image.status = "active"
            image.updated_at = self.clock.now()

    def _staged(self, session: Session, image_id: str) -> m.Image:
        image = session.get(m.Image, image_id)
        if image is None:
            raise Conflict(f"Image {image_id} was deleted during the import.")
        if image.status != "uploading":
            raise Conflict(f"Image {image_id} is not in a valid state for import: "
                           f"{image.status}; stage its data first")
        return image

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
            stored = self.store.seed(image_id, data)
            now = self.clock.now()
            # As devstack's upload of CirrOS would: inspected, so its virtual size is known.
            virtual_size = inspect([data], "qcow2", self.options.formats)
            session.add(m.Image(
                id=image_id, name=name, status="active", visibility="public", protected=False,
                os_hidden=False, owner=None, size=stored.size, virtual_size=virtual_size,
                checksum=stored.md5, os_hash_algo="sha512", os_hash_value=stored.sha512,
                min_ram=0, min_disk=0, disk_format="qcow2", container_format="bare",
                created_at=now, updated_at=now, properties=dict(properties), tags=[],
                stores=[self.store.store_id]))

    def store_data(self, image_id: str, data: bytes) -> bool:
        """Give a queued image its bytes and make it active (a server snapshot's upload).
        False when the image was deleted meanwhile; StoreUnavailable when the store cannot
        take them (the image stays as it was: the caller fails its task)."""
        with self.db.session() as session:
            image = session.get(m.Image, image_id)
            if image is None:
                return False
            stored = self.store.write_bytes(image_id, data, session=session)
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
        try:
            if not self.store.exists(image_id):
                return b""
            return b"".join(self.store.read(image_id))
        except StoreUnavailable:
            # glance_store's BackendException, unmapped by glance: its 500.
            raise glance_internal_error("glance_store.exceptions.BackendException") from None

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


@dataclass(frozen=True)
class Upload:
    """What ``begin_upload`` decided: the byte budget, and whether the data is inspected
    (against the image's disk_format)."""

    limit: int
    disk_format: str | None
    inspected: bool


async def _watched(chunks: AsyncIterator[bytes],
                   inspector: DataInspector | None) -> AsyncIterator[bytes]:
    """The chunks, each shown to the inspector on its way to the store."""
    async for chunk in chunks:
        if inspector is not None:
            inspector.eat(chunk)
        yield chunk


def _compare(column: Any, wanted: tuple[str, float]) -> ColumnElement[bool]:
    """One of glance's time filters, ``(operator, epoch seconds)``, on an image's time."""
    operator, moment = wanted
    comparisons: dict[str, Callable[[Any, float], ColumnElement[bool]]] = {
        "gt": lambda c, v: c > v, "gte": lambda c, v: c >= v, "eq": lambda c, v: c == v,
        "neq": lambda c, v: c != v, "lt": lambda c, v: c < v, "lte": lambda c, v: c <= v}
    return comparisons[operator](column, moment)


def _column_equals(column: Any, convert: Callable[[str], Any], text: str) -> ColumnElement[bool]:
    """The column equal to the query's text; a number column and a text that is no number
    match nothing (glance's database would not find such a row either) rather than fail."""
    try:
        value = convert(text)
    except ValueError:
        return false()
    return column == value  # type: ignore[no-any-return]
