"""Volume types (extra specs, private access), QoS specs and encryption types, as cinder
keeps them (cinder/volume/volume_types.py, qos_specs.py, db/sqlalchemy/api.py).

A type is visible to a project when public or when the project was given access; an
administrator sees every type (the API asks which with ``is_public``). The default type
(``[DEFAULT] default_volume_type``, ``__DEFAULT__`` unless set) exists from the first start
and cannot be deleted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.api.errors import BadRequest, Conflict, NotFound
from stacklab.block_storage import models as m
from stacklab.clock import Clock
from stacklab.ids import IdSource

DEFAULT_TYPE_DESCRIPTION = "Default Volume Type"
# cinder/volume/qos_specs.py: where the limits apply.
QOS_CONSUMERS = ("front-end", "back-end", "both")


def type_not_found(ident: str) -> NotFound:
    return NotFound(f"Volume type {ident} could not be found.")


def qos_not_found(ident: str) -> NotFound:
    return NotFound(f"No such QoS spec {ident}.")


class VolumeTypes:
    def __init__(self, clock: Clock, ids: IdSource, default_type: str) -> None:
        self.clock = clock
        self.ids = ids
        self.default_type = default_type
        # Whether volumes use a type (the volumes' side says; none until it is wired).
        self.in_use: Callable[[Session, str], bool] = lambda session, type_id: False

    # -- types -----------------------------------------------------------------------------

    def ensure_default(self, session: Session) -> m.VolumeType:
        """cinder's db sync creates the default type; a later start finds it."""
        found = session.scalars(select(m.VolumeType).where(
            m.VolumeType.name == self.default_type)).first()
        if found is None:
            found = m.VolumeType(id=self.ids.uuid(), name=self.default_type,
                                 description=DEFAULT_TYPE_DESCRIPTION, is_public=True,
                                 extra_specs={}, projects=[], created_at=self.clock.now())
            session.add(found)
            session.flush()
        return found

    @staticmethod
    def visible(volume_type: m.VolumeType, project_id: str | None, admin: bool) -> bool:
        return admin or volume_type.is_public or project_id in volume_type.projects

    def get(self, session: Session, ident: str, project_id: str | None,
            admin: bool) -> m.VolumeType:
        """By id, as the caller may see it, else cinder's 404."""
        if ident == "default":
            found = self.default(session)
            if found is None:
                raise NotFound("Default volume type can not be found.")
            return found
        found = session.get(m.VolumeType, ident)
        if found is None or not self.visible(found, project_id, admin):
            raise type_not_found(ident)
        return found

    def default(self, session: Session) -> m.VolumeType | None:
        return session.scalars(select(m.VolumeType).where(
            m.VolumeType.name == self.default_type)).first()

    def find(self, session: Session, ident: str, project_id: str | None,
             admin: bool) -> m.VolumeType:
        """A type named by id or by name (a volume's ``volume_type``), as cinder's
        ``get_by_name_or_id``."""
        found = session.get(m.VolumeType, ident)
        if found is None:
            found = session.scalars(select(m.VolumeType).where(
                m.VolumeType.name == ident)).first()
        if found is None or not self.visible(found, project_id, admin):
            raise type_not_found(ident)
        return found

    def listing(self, session: Session, project_id: str | None, *,
                is_public: bool | None) -> list[m.VolumeType]:
        """cinder's ``volume_type_get_all``: ``is_public`` True lists the public types and
        those the project was given, False the private ones, None all."""
        found = []
        for volume_type in session.scalars(select(m.VolumeType)):
            if is_public is None:
                found.append(volume_type)
            elif is_public:
                if volume_type.is_public or project_id in volume_type.projects:
                    found.append(volume_type)
            elif not volume_type.is_public:
                found.append(volume_type)
        return found

    def create(self, session: Session, name: str, description: str | None, is_public: bool,
               extra_specs: Mapping[str, str]) -> m.VolumeType:
        if session.scalars(select(m.VolumeType).where(m.VolumeType.name == name)).first():
            raise Conflict(f"Volume Type {name} already exists.")
        volume_type = m.VolumeType(id=self.ids.uuid(), name=name, description=description,
                                   is_public=is_public, extra_specs=dict(extra_specs),
                                   projects=[], created_at=self.clock.now())
        session.add(volume_type)
        session.flush()
        return volume_type

    def update(self, session: Session, volume_type: m.VolumeType, *, name: str | None,
               description: str | None, is_public: bool | None) -> None:
        if name is not None and name != volume_type.name:
            if volume_type.name == self.default_type:
                raise BadRequest("The volume type cannot be renamed: it is the default "
                                 "volume type.")
            if session.scalars(select(m.VolumeType).where(m.VolumeType.name == name)).first():
                raise Conflict(f"Volume Type {name} already exists.")
            volume_type.name = name
        if description is not None:
            volume_type.description = description
        if is_public is not None:
            volume_type.is_public = is_public
        volume_type.updated_at = self.clock.now()

    def delete(self, session: Session, volume_type: m.VolumeType) -> None:
        if volume_type.name == self.default_type:
            raise BadRequest(f"The volume type {volume_type.id} is a default volume type "
                             "and cannot be deleted.")
        if self.in_use(session, volume_type.id):
            raise BadRequest("Target volume type is still in use.")
        encryption = session.get(m.Encryption, volume_type.id)
        if encryption is not None:
            session.delete(encryption)
        session.delete(volume_type)

    # -- extra specs -------------------------------------------------------------------------

    def check_specs_change(self, session: Session, volume_type: m.VolumeType) -> None:
        # cinder/api/contrib/types_extra_specs.py _allow_update.
        if self.in_use(session, volume_type.id):
            raise BadRequest("Volume Type is currently in use.")

    def set_specs(self, session: Session, volume_type: m.VolumeType,
                  specs: Mapping[str, str]) -> None:
        self.check_specs_change(session, volume_type)
        volume_type.extra_specs = {**volume_type.extra_specs, **specs}
        volume_type.updated_at = self.clock.now()

    def delete_spec(self, session: Session, volume_type: m.VolumeType, key: str) -> None:
        self.check_specs_change(session, volume_type)
        if key not in volume_type.extra_specs:
            raise NotFound(f"Volume Type {volume_type.id} has no extra specs with key {key}.")
        volume_type.extra_specs = {k: v for k, v in volume_type.extra_specs.items()
                                   if k != key}
        volume_type.updated_at = self.clock.now()

    # -- access ------------------------------------------------------------------------------

    @staticmethod
    def add_access(volume_type: m.VolumeType, project: str) -> None:
        if volume_type.is_public:
            raise BadRequest("Invalid volume type: Type access modification is not "
                             "applicable to public volume type.")
        if project in volume_type.projects:
            raise Conflict(f"Volume type access for {volume_type.id} / {project} combination "
                           "already exists.")
        volume_type.projects = [*volume_type.projects, project]

    @staticmethod
    def remove_access(volume_type: m.VolumeType, project: str) -> None:
        if volume_type.is_public:
            raise BadRequest("Invalid volume type: Type access modification is not "
                             "applicable to public volume type.")
        if project not in volume_type.projects:
            raise NotFound(f"Volume type access not found for {volume_type.id} / {project} "
                           "combination.")
        volume_type.projects = [p for p in volume_type.projects if p != project]

    # -- QoS specs ---------------------------------------------------------------------------

    def qos(self, session: Session, ident: str) -> m.QosSpecs:
        found = session.get(m.QosSpecs, ident)
        if found is None:
            raise qos_not_found(ident)
        return found

    def create_qos(self, session: Session, name: str, consumer: str,
                   specs: Mapping[str, str]) -> m.QosSpecs:
        if consumer not in QOS_CONSUMERS:
            raise BadRequest(f"Invalid qos specs: Consumer {consumer} is not valid, it should "
                             f"be one of {', '.join(QOS_CONSUMERS)}.")
        if session.scalars(select(m.QosSpecs).where(m.QosSpecs.name == name)).first():
            raise Conflict(f"QoS Specs {name} already exists.")
        qos = m.QosSpecs(id=self.ids.uuid(), name=name, consumer=consumer, specs=dict(specs),
                         created_at=self.clock.now())
        session.add(qos)
        session.flush()
        return qos

    @staticmethod
    def update_qos(qos: m.QosSpecs, specs: Mapping[str, str]) -> None:
        changes = dict(specs)
        consumer = changes.pop("consumer", None)
        if consumer is not None:
            if consumer not in QOS_CONSUMERS:
                raise BadRequest(f"Invalid qos specs: Consumer {consumer} is not valid, it "
                                 f"should be one of {', '.join(QOS_CONSUMERS)}.")
            qos.consumer = consumer
        qos.specs = {**qos.specs, **changes}

    @staticmethod
    def delete_qos_keys(qos: m.QosSpecs, keys: list[str]) -> None:
        for key in keys:
            if key not in qos.specs:
                raise NotFound(f"QoS spec {qos.id} has no spec with key {key}.")
        qos.specs = {k: v for k, v in qos.specs.items() if k not in keys}

    @staticmethod
    def associations(session: Session, qos: m.QosSpecs) -> list[m.VolumeType]:
        return list(session.scalars(select(m.VolumeType).where(
            m.VolumeType.qos_specs_id == qos.id)))

    def delete_qos(self, session: Session, qos: m.QosSpecs, force: bool) -> None:
        associated = self.associations(session, qos)
        if associated and not force:
            raise BadRequest(f"QoS Specs {qos.id} is still associated with entities.")
        for volume_type in associated:
            volume_type.qos_specs_id = None
        session.delete(qos)

    def associate(self, session: Session, qos: m.QosSpecs, type_id: str | None) -> None:
        if not type_id:
            raise BadRequest("Volume Type id must not be None.")
        volume_type = session.get(m.VolumeType, type_id)
        if volume_type is None:
            raise type_not_found(type_id)
        if volume_type.qos_specs_id is not None and volume_type.qos_specs_id != qos.id:
            raise BadRequest(f"Invalid volume type: Type {type_id} is already associated "
                             f"with another qos specs: {volume_type.qos_specs_id}")
        volume_type.qos_specs_id = qos.id

    @staticmethod
    def disassociate(session: Session, qos: m.QosSpecs, type_id: str | None) -> None:
        if not type_id:
            raise BadRequest("Volume Type id must not be None.")
        volume_type = session.get(m.VolumeType, type_id)
        if volume_type is None:
            raise type_not_found(type_id)
        if volume_type.qos_specs_id == qos.id:
            volume_type.qos_specs_id = None

    # -- encryption --------------------------------------------------------------------------

    def set_encryption(self, session: Session, volume_type: m.VolumeType,
                       fields: Mapping[str, Any], *, creating: bool) -> m.Encryption:
        verb = "create" if creating else "update"
        if self.in_use(session, volume_type.id):
            raise BadRequest(f"Cannot {verb} encryption specs. Volume type in use.")
        found = session.get(m.Encryption, volume_type.id)
        if creating and found is not None:
            raise BadRequest(f"Volume type encryption for type {volume_type.id} already "
                             "exists.")
        if not creating and found is None:
            raise NotFound(f"Volume type encryption for type {volume_type.id} does not exist.")
        if found is None:
            found = m.Encryption(volume_type_id=volume_type.id, encryption_id=self.ids.uuid(),
                                 provider="", control_location="front-end",
                                 created_at=self.clock.now())
            session.add(found)
        else:
            found.updated_at = self.clock.now()
        for name in ("provider", "control_location", "cipher"):
            if name in fields:
                setattr(found, name, fields[name])
        if "key_size" in fields:
            size = fields["key_size"]
            found.key_size = None if size in (None, "") else int(size)
        session.flush()
        return found

    def delete_encryption(self, session: Session, volume_type: m.VolumeType) -> None:
        if self.in_use(session, volume_type.id):
            raise BadRequest("Cannot delete encryption specs. Volume type in use.")
        found = session.get(m.Encryption, volume_type.id)
        if found is None:
            raise NotFound(f"Volume type encryption for type {volume_type.id} does not exist.")
        session.delete(found)
