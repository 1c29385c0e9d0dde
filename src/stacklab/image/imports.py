"""Image import: ``POST /v2/images/{id}/import``'s methods and the legacy import task.

- ``glance-direct``: the data staged with ``PUT .../stage`` becomes the image's.
- ``web-download``: the data is fetched from a URI, which must pass
  ``[import_filtering_opts]`` (``tasks.ImportFilter``: loopback only by default), as must
  every redirect on the way; glance refuses a URI that does not pass with a 400.
- ``glance-download``: the data and some properties (glance's default
  ``[glance_download_properties] extra_properties``) come from an image of another
  region's glance, found in the catalog. The lab has one region: an import from it reads
  the source over this glance's own API with the caller's token (as glance would over
  the network); any other region has no image endpoint and the task fails, leaving the
  image queued with its properties, as glance does.

Whatever the method, the data is inspected as an upload's is (``inspection.py``): data
that is not the image's ``disk_format``, or is unsafe, fails the task with glance's
message and the image is queued again, without it.

glance runs the import in the background and answers 202 at once; stacklab runs it
before answering (what it fetches is local), so by the time the client polls, the task
has finished. Each import is recorded as a task (``tasks.py``), which ``GET
/v2/images/{id}/tasks`` shows; while it runs, the image carries glance's
``os_glance_import_task`` lock.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.orm import Session

from stacklab.api.client import ServiceCallError, ServiceClient
from stacklab.api.context import RequestContext
from stacklab.api.errors import ApiError, BadRequest, Conflict, Forbidden
from stacklab.api.validation import Schema
from stacklab.image import models as m
from stacklab.image.rbdstore import StoreUnavailable
from stacklab.image.schemas import IMAGE_CREATE
from stacklab.image.service import ImageService
from stacklab.image.tasks import ImportFilter, Tasks

LOCK = "os_glance_import_task"
# glance's [glance_download_properties] extra_properties default: prefixes of what is copied.
GLANCE_DOWNLOAD_PROPERTIES = ("hw_", "trait:", "os_distro", "os_secure_boot", "os_type")
INTERFACES = ("public", "internal", "admin")
MAX_REDIRECTS = 5
FETCH_TIMEOUT = 60.0
# glance's [DEFAULT] hashing_algorithm.
HASHING_ALGORITHM = "sha512"
_IMAGE_FIELDS = Schema(IMAGE_CREATE)


class ImportFailed(Exception):
    """Why an import task failed (its message)."""


# What ends an import task as failed (its message the task's) rather than as a 500; a store
# that cannot take the data (glance_store's BackendException) is one.
TASK_FAILURES = (ImportFailed, StoreUnavailable, ApiError, ServiceCallError, httpx.HTTPError)


@dataclass(frozen=True)
class Started:
    task_id: str
    image_id: str
    method: str
    body: Mapping[str, Any]


class Importer:
    def __init__(self, images: ImageService, tasks: Tasks, uri_filter: ImportFilter,
                 methods: tuple[str, ...], region: str, own_glance: ServiceClient | None) -> None:
        self.images = images
        self.tasks = tasks
        self.uri_filter = uri_filter
        self.methods = methods
        self.region = region
        self.own_glance = own_glance

    # -- POST /v2/images/{id}/import -------------------------------------------------------

    def start(self, session: Session, context: RequestContext, image: m.Image,
              body: Mapping[str, Any]) -> Started:
        """glance's checks, in its order, then the task and the image's lock. Run in the
        caller's session, after its policy check."""
        method = body["method"]
        name = method["name"]
        if name not in self.methods:
            raise BadRequest(f"Import method {name} is not supported; available: "
                             f"{', '.join(self.methods)}")
        if image.status == "active":
            raise Conflict("Image with status active cannot be target for import")
        if image.status != "queued" and name in ("web-download", "glance-download"):
            raise Conflict(f"Image needs to be in 'queued' state to use '{name}' method")
        if image.status != "uploading" and name == "glance-direct":
            raise Conflict("Image needs to be staged before 'glance-direct' method can be "
                           "used")
        if not image.container_format:
            raise Conflict("'container_format' needs to be set before import")
        if not image.disk_format:
            raise Conflict("'disk_format' needs to be set before import")
        if name == "glance-download":
            for key in ("glance_region", "glance_image_id"):
                if key not in method:
                    raise BadRequest(f"'{key}' needs to be set for glance-download import "
                                     "method")
            try:
                uuid.UUID(str(method["glance_image_id"]))
            except ValueError:
                raise BadRequest("Remote image id does not look like a UUID: "
                                 f"{method['glance_image_id']}") from None
            body = {**body, "method": {"glance_service_interface": "public", **method}}
        if body.get("all_stores_must_succeed") is False:
            raise BadRequest(f"All_stores_must_succeed can only be set with enabled_backends "
                             f"{method.get('uri')}")
        if name == "web-download" and not self.uri_filter.allows(method.get("uri")):
            raise BadRequest(f"URI for web-download does not pass filtering: "
                             f"{method.get('uri')}")
        if LOCK in image.properties:
            raise Conflict(f"Image {image.id} has an import in progress (task "
                           f"{image.properties[LOCK]})")
        task = self.tasks.create(session, context, "api_image_import",
                                 {"image_id": image.id, "import_req": dict(body),
                                  "backend": [None]}, image_id=image.id)
        image.properties = {**image.properties, LOCK: task.id}
        return Started(task.id, image.id, name, body)

    async def run(self, started: Started, context: RequestContext) -> None:
        """Do the import; the task records how it ended (nothing is raised)."""
        self._task_step(started.task_id, "processing")
        try:
            if started.method == "glance-direct":
                self.images.activate_staged(started.image_id)
            elif started.method == "web-download":
                await self._download(started.image_id, context, started.body["method"]["uri"])
            else:
                await self._glance_download(started, context)
        except TASK_FAILURES as error:
            self._end(started, failure=_reason(error))
            return
        self._end(started, failure=None)

    def _task_step(self, task_id: str, status: str) -> None:
        with self.images.db.session() as session:
            task = session.get(m.ImageTask, task_id)
            if task is not None and status == "processing":
                self.tasks.begin(task)

    def _end(self, started: Started, *, failure: str | None) -> None:
        with self.images.db.session() as session:
            image = session.get(m.Image, started.image_id)
            if image is not None:
                image.properties = {k: v for k, v in image.properties.items() if k != LOCK}
                if failure is not None and image.status in ("saving", "importing"):
                    image.status = "queued"
            task = session.get(m.ImageTask, started.task_id)
            if task is None:
                return
            if failure is None:
                self.tasks.succeed(task, {"image_id": started.image_id})
            else:
                self.tasks.fail(task, failure)

    async def _download(self, image_id: str, context: RequestContext, uri: str) -> None:
        async with httpx.AsyncClient(timeout=FETCH_TIMEOUT, follow_redirects=False,
                                     trust_env=False) as client:
            response = await self._open(client, uri)
            try:
                await self.images.upload(image_id, context, response.aiter_bytes())
            finally:
                await response.aclose()

    async def _open(self, client: httpx.AsyncClient, uri: str) -> httpx.Response:
        for _ in range(MAX_REDIRECTS + 1):
            response = await client.send(client.build_request("GET", uri), stream=True)
            if response.is_redirect:
                await response.aclose()
                uri = str(response.url.join(response.headers.get("location", "")))
                if not self.uri_filter.allows(uri):
                    raise ImportFailed(f"Redirect to disallowed URL: {uri}")
                continue
            if response.status_code >= 400:
                await response.aclose()
                raise ImportFailed(f"HTTP error {response.status_code} fetching {uri}")
            return response
        raise ImportFailed(f"Too many redirects fetching {uri}")

    async def _glance_download(self, started: Started, context: RequestContext) -> None:
        method = started.body["method"]
        region, interface = method["glance_region"], method["glance_service_interface"]
        if region.lower() != self.region.lower() or interface not in INTERFACES or \
                self.own_glance is None:
            raise ImportFailed(f"{interface} glance endpoint not found for region {region}")
        token = context.auth_token
        source_id = method["glance_image_id"]
        source = await self.own_glance.json("GET", f"/v2/images/{source_id}", token=token)
        if source.get("status") != "active":
            raise ImportFailed(f"Source image status should be active instead of "
                               f"{source.get('status')}")
        data = (await self.own_glance.send("GET", f"/v2/images/{source_id}/file",
                                           token=token)).content
        copied = {k: v for k, v in source.items()
                  if k.startswith(GLANCE_DOWNLOAD_PROPERTIES) and isinstance(v, str)}
        before = self._set_metadata(started.image_id, source, copied)
        try:
            await self.images.upload(started.image_id, context, _chunks(data))
        except BaseException:
            self._restore_metadata(started.image_id, before)
            raise

    def _set_metadata(self, image_id: str, source: Mapping[str, Any],
                      copied: Mapping[str, str]) -> tuple[dict[str, Any], str | None, str | None]:
        with self.images.db.session() as session:
            image = session.get(m.Image, image_id)
            if image is None:
                raise ImportFailed(f"Image {image_id} was deleted during the import.")
            before = (dict(image.properties), image.disk_format, image.container_format)
            image.properties = {**image.properties, **copied}
            image.disk_format = source.get("disk_format")
            image.container_format = source.get("container_format")
            return before

    def _restore_metadata(self, image_id: str,
                          before: tuple[dict[str, Any], str | None, str | None]) -> None:
        with self.images.db.session() as session:
            image = session.get(m.Image, image_id)
            if image is not None:
                properties, image.disk_format, image.container_format = before
                image.properties = {**properties, LOCK: image.properties.get(LOCK)}

    # -- POST /v2/images/{id}/locations (image API 2.17) ------------------------------------

    def start_location(self, session: Session, context: RequestContext, image: m.Image,
                       body: Mapping[str, Any], *, service: bool) -> Started:
        """glance's checks of an added location after its policy check, then the
        ``location_import`` task and the image's lock. ``service``: the caller holds the
        service role, which glance lets add a location whatever store it names."""
        url = body["url"]
        validation = dict(body.get("validation_data") or {})
        # glance lets a normal user add only locations of its http store. The lab's "http
        # store" reaches exactly what web-download may (loopback by default): any other URL
        # is one of a store that is not configured.
        if not service and not (url.startswith("http") and self.uri_filter.allows(url)):
            raise Forbidden("http store must be enabled to use location API by normal user.")
        if "os_hash_value" in validation:
            _check_hash_value(validation["os_hash_value"],
                              validation.get("os_hash_algo", HASHING_ALGORITHM))
        if LOCK in image.properties:
            raise Conflict(f"Image {image.id} has an import in progress (task "
                           f"{image.properties[LOCK]})")
        task = self.tasks.create(session, context, "location_import",
                                 {"image_id": image.id, "loc_url": url,
                                  "validation_data": validation}, image_id=image.id)
        image.properties = {**image.properties, LOCK: task.id}
        return Started(task.id, image.id, "location_import", dict(body))

    async def run_location(self, started: Started) -> None:
        """glance's location_import flow with do_secure_hash on: the image goes importing,
        its data is read from the URL (its http store does; stacklab reads only what the
        web-download filter allows) to compute the checksum and hash, which must match
        ``validation_data``; then the location is recorded and the image becomes active.
        glance's http store keeps no copy; stacklab keeps one in its file store, so that
        ``GET .../file`` answers without reaching out again. On failure the image goes back
        to queued with no hashes, keeping an http location (glance's http store cannot
        delete one)."""
        url = started.body["url"]
        validation = dict(started.body.get("validation_data") or {})
        algo = validation.get("os_hash_algo", HASHING_ALGORITHM)
        self._task_step(started.task_id, "processing")
        with self.images.db.session() as session:
            image = session.get(m.Image, started.image_id)
            if image is not None and image.status == "queued":
                self.images.set_status(session, image, "importing")
        try:
            data = await self._read_location(url)
            digest = hashlib.new(algo, data).hexdigest()
            if "os_hash_value" in validation and validation["os_hash_value"] != digest:
                raise ImportFailed(f"os_hash_value: ({validation['os_hash_value']}) not "
                                   f"matched with actual os_hash_value: ({digest})")
            self._activate_location(started.image_id, url, data, algo, digest)
        except (ImportFailed, StoreUnavailable, ApiError, httpx.HTTPError) as error:
            with self.images.db.session() as session:
                image = session.get(m.Image, started.image_id)
                if image is not None:
                    image.os_hash_algo = image.os_hash_value = image.checksum = None
                    if url.startswith("http") and image.status != "active":
                        image.locations = [*image.locations, {"url": url, "metadata": {}}]
            self._end(started, failure=_reason(error))
            return
        self._end(started, failure=None)

    async def _read_location(self, url: str) -> bytes:
        if not url.startswith("http") or not self.uri_filter.allows(url):
            # What glance's stores answer for a URL none of them serves.
            raise ImportFailed(f"Unknown scheme or location not reachable: {url}")
        async with httpx.AsyncClient(timeout=FETCH_TIMEOUT, follow_redirects=False,
                                     trust_env=False) as client:
            response = await self._open(client, url)
            try:
                return await response.aread()
            finally:
                await response.aclose()

    def _activate_location(self, image_id: str, url: str, data: bytes, algo: str,
                           digest: str) -> None:
        if not self.images.store_data(image_id, data):
            raise ImportFailed(f"Image {image_id} was deleted during the location import.")
        with self.images.db.session() as session:
            image = session.get(m.Image, image_id)
            if image is None:
                raise ImportFailed(f"Image {image_id} was deleted during the location import.")
            image.os_hash_algo, image.os_hash_value = algo, digest
            image.locations = [*image.locations, {"url": url, "metadata": {}}]

    # -- the legacy /v2/tasks import ---------------------------------------------------------

    def check_legacy_source(self, uri: Any) -> str:
        """glance's checks of a legacy task's ``import_from``: a 400 when it fails them."""
        if not uri or not isinstance(uri, str):
            raise BadRequest(f"Invalid location: {uri}")
        if uri.startswith(("file:///", "filesystem:///")):
            raise BadRequest("File based imports are not allowed. Please use a non-local "
                             "source of image data.")
        if not uri.startswith(("http://", "https://")):
            raise BadRequest("The given uri is not valid. Please specify a valid uri from "
                             "the following list of supported uri ['http']")
        if not self.uri_filter.allows(uri):
            raise BadRequest(f"URI for legacy import task does not pass filtering: {uri}")
        return uri

    async def run_legacy(self, task_id: str, context: RequestContext) -> None:
        """Create the image the task describes and fill it from ``import_from``."""
        with self.images.db.session() as session:
            task = session.get(m.ImageTask, task_id)
            assert task is not None
            self.tasks.begin(task)
            task_input = dict(task.input)
        image_id: str | None = None
        try:
            fields = dict(task_input.get("image_properties") or {})
            _IMAGE_FIELDS.validate(fields)
            with self.images.db.session() as session:
                image_id = self.images.create(session, context, fields).id
            await self._download(image_id, context, task_input["import_from"])
        except TASK_FAILURES as error:
            with self.images.db.session() as session:
                task = session.get(m.ImageTask, task_id)
                if task is not None:
                    self.tasks.fail(task, _reason(error))
                image = session.get(m.Image, image_id) if image_id else None
                if image is not None:
                    self.images.delete(session, image)
            return
        with self.images.db.session() as session:
            task = session.get(m.ImageTask, task_id)
            if task is not None:
                self.tasks.succeed(task, {"image_id": image_id})


def _check_hash_value(value: str, algo: str) -> None:
    """glance's checks of ``validation_data``'s hash: hexadecimal, of the algorithm's size."""
    try:
        size = len(bytes.fromhex(value))
    except ValueError:
        raise BadRequest(f"os_hash_value ({value}) is not a valid hexadecimal value") from None
    want = hashlib.new(algo).digest_size
    if size != want:
        raise BadRequest(f"os_hash_value: ({value}) is not the correct size for ({algo}) "
                         f"(should be ({want}) bytes)")


def _reason(error: BaseException) -> str:
    if isinstance(error, ApiError):
        return error.message
    if isinstance(error, ServiceCallError):
        body = error.body if isinstance(error.body, dict) else {}
        return str(body.get("message") or body or f"HTTP error {error.status}")
    return str(error) or type(error).__name__


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data
