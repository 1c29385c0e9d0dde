"""``os-reimage`` (3.68, cinder/api/contrib/volume_actions.py): a volume written anew from
an image (block_storage/reimage.py)."""

from __future__ import annotations

from stacklab.api.errors import BadRequest
from stacklab.api.service import Call, Reply
from stacklab.block_storage import schemas as s
from stacklab.block_storage.api.base import api, block_storage
from stacklab.block_storage.api.volumes import ACTION, caller, volume_target

REIMAGE = s._wrapped("os-reimage", {
    "type": "object",
    "properties": {"image_id": s.UUID, "reimage_reserved": s.BOOLEAN},
    "required": ["image_id"], "additionalProperties": False})


@api.action(ACTION, "os-reimage", schema=REIMAGE, min_version="3.68",
            expected_errors=(400, 403, 404, 409))
async def reimage(call: Call) -> Reply:
    params = call.body["os-reimage"]
    service = block_storage(call)
    reimages, who = service.reimages, caller(call)
    with service.db.session() as session:
        size = service.volumes.get(session, call.params["volume_id"], who).size
    image = await reimages.image(params["image_id"], call.context.auth_token)
    snapshot_id = reimages.snapshot_of(image, size, who)
    with service.db.session() as session:
        volume = service.volumes.get(session, call.params["volume_id"], who)
        call.authorize("volume:reimage_reserved" if volume.status == "reserved"
                       else "volume:reimage", volume_target(volume))
        reimages.start(volume, len(service.attachments.of_volume(session, volume.id)),
                       s.as_bool(params.get("reimage_reserved", False)))
    refusal: BadRequest | None = None
    with service.db.session() as session:
        volume = service.volumes.get(session, call.params["volume_id"], who)
        try:
            cast = reimages.check(image, volume, snapshot_id)
        except BadRequest as error:
            # The volume's status put back is kept (committed), the refusal answered.
            refusal = error
    if refusal is not None:
        raise refusal
    service.send(cast)
    return Reply(None, status=202)
