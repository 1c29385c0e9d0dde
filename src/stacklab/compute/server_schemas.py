"""Request schemas of the servers API, microversion by microversion, written to nova's rules.

Each table maps the microversion at which a schema starts to apply to the schema; it holds
until the next one starts (``stacklab.api.service.schemas_from`` turns a table into the
version ranges a route declares). A table starts where its operation starts (remote
consoles at 2.6); where an operation stops being served (addFixedIp after 2.43, the
os-get*Console actions after 2.5) its route or action declares, as nova's api_version
decorators do. `ACTIONS` holds one table per ``POST /servers/{id}/action`` name.

The verdicts are nova's, quirks included, checked against nova's own schemas by
tests/unit/compute/test_server_schemas.py. Three of nova's rules are not plain JSON Schema,
so they are spelt differently here with the same outcome:

* nova checks the formats "name", "uuid" and "base64" with checkers of its own, which our
  shared validator does not have: here they are patterns;
* nova's validator also applies "minimum" and "maximum" to numeric strings (a min_count of
  "0" is refused): here the string's pattern carries the range;
* nova's patterns end in "$", which also matches before a final newline ("web-1\\n" is a
  valid name upstream); ours end the same way, on purpose.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from stacklab.api.microversion import Version

_Schema = dict[str, Any]


# --------------------------------------------------------------------------- nova's formats


def _printable_classes() -> tuple[str, str]:
    """Regex class bodies of nova's printable characters, with and without the spaces.

    Nova counts as printable every code point below U+FFFF outside the "other" categories
    (controls, format characters, surrogates, private use, unassigned) and the line and
    paragraph separators; spaces (Zs) are printable but may not start or end a name.
    ``str.isprintable`` says the same except that it refuses every space but U+0020.
    """
    # U+0000..U+FFFE in one string, decoded from UTF-32 (~1 ms, where joining 65,535
    # chr() calls costs ~6 at each start; UTF-16 would pair up the surrogates).
    units = bytearray(0x40000)
    units[0::4] = bytes(range(256)) * 256
    units[1::4] = b"".join(bytes([high]) * 256 for high in range(256))
    chars = units.decode("utf-32-le", "surrogatepass")[:0xFFFF]
    visible = bytearray(map(str.isprintable, chars))
    visible[0x20] = 0
    printable = bytearray(visible)
    for space in re.finditer(r"\s", chars):
        if unicodedata.category(space[0]) == "Zs":
            printable[space.start()] = 1
    return _class_body(printable), _class_body(visible)


def _class_body(flags: bytearray) -> str:
    spans = ((m.start(), m.end() - 1) for m in re.finditer(rb"\x01+", flags))
    return "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in spans)


_PRINTABLE, _VISIBLE = _printable_classes()
# "name": printable, neither starting nor ending with a space (empty is left to minLength).
_NAME_PATTERN = f"^(?![^{_VISIBLE}])[{_PRINTABLE}]*(?<![^{_VISIBLE}])$"
_DESCRIPTION_PATTERN = f"^[{_PRINTABLE}]*$"

# "uuid" is oslo's is_uuid_like: 32 hex digits in either case, hyphens anywhere, optionally
# braced or prefixed "urn:uuid:". (oslo drops "urn:" and "uuid:" wherever they occur; only
# the leading ones are taken here.) \Z, not $: oslo refuses a trailing newline.
_UUID_PATTERN = r"^(?:urn:)?(?:uuid:)?[{}]*(?:-*[0-9a-fA-F]){32}-*[{}]*\Z"


def _base64_pattern() -> str:
    """What Python's lenient base64 decoder (nova's "base64" check) accepts, as a regex.

    The decoder skips characters outside the alphabet, counts "=" only from the third
    character of a quad on, stops at the first complete padding, and fails if the data
    ends inside a quad. Non-ASCII text fails before decoding (nova answers 500 there;
    we refuse it).
    """
    data = "[A-Za-z0-9+/]"
    other = r"[\x00-\x2a\x2c-\x2e\x3a-\x3c\x3e-\x40\x5b-\x60\x7b-\x7f]"  # ASCII, not data, not =
    skipped = rf"(?:{other}|=)"  # "=" is skipped in a quad's first two places
    quad = f"{skipped}*{data}{skipped}*{data}{other}*(?:={other}*)?{data}{other}*{data}"
    padded_end = (f"{data}{skipped}*{data}{other}*"
                  f"(?:={other}*=|(?:={other}*)?{data}{other}*=)[\\x00-\\x7f]*")
    return f"^(?:{quad})*{skipped}*(?:{padded_end})?\\Z"


def _numerals_up_to(maximum: int) -> str:
    """A regex alternation of the decimal numerals of 1..maximum, without leading zeros."""
    digits = str(maximum)
    options = [f"[1-9][0-9]{{0,{len(digits) - 2}}}"] if len(digits) > 1 else []
    for place, digit in enumerate(digits):
        lowest = 1 if place == 0 else 0
        if int(digit) > lowest:
            rest = len(digits) - place - 1
            options.append(f"{digits[:place]}[{lowest}-{int(digit) - 1}][0-9]{{{rest}}}")
    options.append(digits)
    return "|".join(options)


# --------------------------------------------------------------------------- shared fields

_NAME: _Schema = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": _NAME_PATTERN}
_UUID: _Schema = {"type": "string", "pattern": _UUID_PATTERN}
_UUID_OR_NULL: _Schema = {"type": ["string", "null"], "pattern": _UUID_PATTERN}
_IP_ADDRESS: _Schema = {"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]}
_DESCRIPTION: _Schema = {"type": ["string", "null"], "maxLength": 255,
                         "pattern": _DESCRIPTION_PATTERN}
_BASE64: _Schema = {"type": "string", "pattern": _base64_pattern()}
_USER_DATA: _Schema = {**_BASE64, "maxLength": 65535}
# Compute hosts and nodes, and from 2.94 an instance's hostname (an FQDN).
_HOST_NAME: _Schema = {"type": "string", "minLength": 1, "maxLength": 255,
                       "pattern": r"^[a-zA-Z0-9._-]*$"}
_HOST_OR_NULL: _Schema = {**_HOST_NAME, "type": ["string", "null"]}
# 2.90-2.93: one RFC 1123 label.
_HOSTNAME_LABEL: _Schema = {"type": "string", "minLength": 2, "maxLength": 63,
                            "pattern": r"^[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]$"}
_DISK_CONFIG: _Schema = {"type": "string", "enum": ["AUTO", "MANUAL"]}

# oslo's bool_from_string spellings, as nova lists them.
_YES = ["True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes"]
_NO = ["False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no"]
_FLAG: _Schema = {"type": ["boolean", "string"], "enum": [True, *_YES, False, *_NO]}
# nova's parameter_types.boolean, for the other compute schemas (a flavor's is_public).
BOOLEAN = _FLAG


def flag(value: Any) -> bool:
    """What a value that passed ``BOOLEAN`` means (oslo's bool_from_string, strict)."""
    return value is True or value in _YES

_METADATA: _Schema = {
    "type": "object",
    "patternProperties": {r"^[a-zA-Z0-9_:. -]{1,255}$": {"type": "string", "maxLength": 255}},
    "additionalProperties": False,
}
_TAG: _Schema = {"type": "string", "minLength": 1, "maxLength": 60, "pattern": "^[^,/]*$"}
_TAGS: _Schema = {"type": "array", "items": _TAG, "maxItems": 50}
_TRUSTED_CERTIFICATES: _Schema = {
    "type": ["array", "null"], "minItems": 1, "maxItems": 50, "uniqueItems": True,
    "items": {"type": "string", "minLength": 1},
}
# A count of at least 1, as a number or a numeral. The empty group keeps nova's answer to
# a lone "\n" (its "^[0-9]*$" matches it, and "minimum" cannot read it as a number).
_COUNT: _Schema = {"type": ["integer", "string"], "minimum": 1, "minLength": 1,
                   "pattern": "^(?:0*[1-9][0-9]*)?$"}
_PERSONALITY: _Schema = {
    "type": "array",
    "items": {"type": "object", "additionalProperties": False,
              "properties": {"path": {"type": "string"}, "contents": _BASE64}},
}


def _object(properties: _Schema, *required: str, nullable: bool = False) -> _Schema:
    schema: _Schema = {"type": ["object", "null"] if nullable else "object",
                       "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    return schema


def _body(key: str, value: _Schema) -> _Schema:
    """A request body of one required top-level key."""
    return _object({key: value}, key)


def _since(version: Version, start: str) -> bool:
    return version >= Version.parse(start)


# --------------------------------------------------------------------------- POST /servers

_MAX_INT32 = 2**31 - 1
_VOLUME_SIZE: _Schema = {"type": ["integer", "string"], "minimum": 1, "maximum": _MAX_INT32,
                         "pattern": f"^0*(?:{_numerals_up_to(_MAX_INT32)})$"}


def _block_device(*, v2: bool, tag: bool = False, volume_type: bool = False) -> _Schema:
    fields: _Schema = {
        "virtual_name": {"type": "string", "maxLength": 255},
        "volume_id": _UUID,
        "snapshot_id": _UUID,
        "volume_size": _VOLUME_SIZE,
        "device_name": {"type": "string", "minLength": 1, "maxLength": 255,
                        "pattern": r"^[a-zA-Z0-9._/-]*$"},
        "delete_on_termination": _FLAG,
        "no_device": {},
        "connection_info": {"type": "string", "maxLength": 16777215},
    }
    if v2:
        fields |= {
            "source_type": {"type": "string", "enum": ["volume", "image", "snapshot", "blank"]},
            "uuid": {"type": "string", "minLength": 1, "maxLength": 255,
                     "pattern": r"^[a-zA-Z0-9._-]*$"},
            "image_id": _UUID,
            "destination_type": {"type": "string", "enum": ["local", "volume"]},
            "guest_format": {"type": "string", "maxLength": 255},
            "device_type": {"type": "string", "maxLength": 255},
            "disk_bus": {"type": "string", "maxLength": 255},
            "boot_index": {"type": ["integer", "string", "null"], "pattern": "^-?[0-9]+$"},
        }
    if tag:
        fields["tag"] = _TAG
    if volume_type:
        fields["volume_type"] = {"type": ["string", "null"], "maxLength": 255}
    return {"type": "array", "items": _object(fields)}


def _requested_network(*, uuid_checked: bool, tag: bool) -> _Schema:
    fields: _Schema = {
        "fixed_ip": _IP_ADDRESS,
        "port": _UUID_OR_NULL,
        # Before 2.37 nova took any string as a network id here.
        "uuid": _UUID if uuid_checked else {"type": "string"},
    }
    if tag:
        fields["tag"] = _TAG
    return _object(fields)


_UUID_OR_UUIDS: _Schema = {"type": ["string", "array"], "pattern": _UUID_PATTERN,
                           "items": _UUID}
_SCHEDULER_HINTS: _Schema = {
    "type": "object",
    "properties": {
        "group": _UUID_OR_UUIDS,
        "different_host": _UUID_OR_UUIDS,
        # Upstream checks only the list form of same_host.
        "same_host": {"type": ["string", "array"], "items": _UUID},
        "query": {"type": ["string", "object"]},
        "target_cell": _NAME,
        "different_cell": {"type": ["string", "array"], "items": {"type": "string"}},
        "build_near_host_ip": _IP_ADDRESS,
        "cidr": {"type": "string", "pattern": "^/[0-9a-f.:]+$"},
    },
    "additionalProperties": True,  # filters of the deployment read hints of their own
}


def _server_create(version: Version) -> _Schema:
    def since(start: str) -> bool:
        return _since(version, start)

    # 2.32 added device tags; 2.33 (block devices) and 2.37 (networks) rewrote those
    # fields and lost them, and 2.42 brought them back.
    bdm_tag = version == Version(2, 32) or since("2.42")
    network_tag = (since("2.32") and not since("2.37")) or since("2.42")
    network = _requested_network(uuid_checked=since("2.37"), tag=network_tag)
    fields: _Schema = {
        "name": _NAME,
        "imageRef": {"type": "string", "anyOf": [{"pattern": _UUID_PATTERN},
                                                 {"maxLength": 0}]},  # "" boots from volume
        "flavorRef": {"type": ["string", "integer"], "minLength": 1},
        "adminPass": {"type": "string"},
        "metadata": _METADATA,
        "networks": ({"anyOf": [{"type": "array", "items": network},
                                {"type": "string", "enum": ["none", "auto"]}]}
                     if since("2.37") else {"type": "array", "items": network}),
        "OS-DCF:diskConfig": _DISK_CONFIG,
        "accessIPv4": {"type": "string", "format": "ipv4"},
        "accessIPv6": {"type": "string", "format": "ipv6"},
        "availability_zone": _NAME,
        "block_device_mapping": _block_device(v2=False),
        "block_device_mapping_v2": _block_device(v2=True, tag=bdm_tag,
                                                 volume_type=since("2.67")),
        "config_drive": _FLAG,
        "key_name": _NAME,
        "min_count": _COUNT,
        "max_count": _COUNT,
        "return_reservation_id": _FLAG,
        "security_groups": {"type": "array", "items": _object({"name": _NAME})},
        "user_data": _USER_DATA,
    }
    if not since("2.57"):
        fields["personality"] = _PERSONALITY
    if since("2.19"):
        fields["description"] = _DESCRIPTION
    if since("2.52"):
        fields["tags"] = _TAGS
    if since("2.63"):
        fields["trusted_image_certificates"] = _TRUSTED_CERTIFICATES
    if since("2.74"):
        fields["host"] = _HOST_NAME
        fields["hypervisor_hostname"] = _HOST_NAME
    if since("2.90"):
        fields["hostname"] = _HOST_NAME if since("2.94") else _HOSTNAME_LABEL
    required = ["name", "flavorRef", *(["networks"] if since("2.37") else [])]
    return _object({"server": _object(fields, *required),
                    "os:scheduler_hints": _SCHEDULER_HINTS,
                    "OS-SCH-HNT:scheduler_hints": _SCHEDULER_HINTS}, "server")


SERVER_CREATE: dict[str, _Schema] = {
    start: _server_create(Version.parse(start))
    for start in ("2.1", "2.19", "2.32", "2.33", "2.37", "2.42", "2.52", "2.57", "2.63",
                  "2.67", "2.74", "2.90", "2.94")
}


# --------------------------------------------------------------------------- PUT /servers/{id}


def _server_update(version: Version) -> _Schema:
    fields: _Schema = {
        "name": _NAME,
        "OS-DCF:diskConfig": _DISK_CONFIG,
        "accessIPv4": {"type": "string", "format": "ipv4"},
        "accessIPv6": {"type": "string", "format": "ipv6"},
    }
    if _since(version, "2.19"):
        fields["description"] = _DESCRIPTION
    if _since(version, "2.90"):
        fields["hostname"] = _HOST_NAME if _since(version, "2.94") else _HOSTNAME_LABEL
    if _since(version, "2.104"):
        fields["pinned_availability_zone"] = {"oneOf": [
            {"type": "string", "minLength": 1, "maxLength": 255}, {"type": "null"}]}
    return _body("server", _object(fields))


SERVER_UPDATE: dict[str, _Schema] = {
    start: _server_update(Version.parse(start))
    for start in ("2.1", "2.19", "2.90", "2.94", "2.104")
}


# --------------------------------------------------------------------------- actions


def _rebuild(version: Version) -> _Schema:
    def since(start: str) -> bool:
        return _since(version, start)

    fields: _Schema = {
        "imageRef": _UUID,
        "name": _NAME,
        "adminPass": {"type": "string"},
        "metadata": _METADATA,
        "preserve_ephemeral": _FLAG,
        "OS-DCF:diskConfig": _DISK_CONFIG,
        "accessIPv4": {"type": "string", "format": "ipv4"},
        "accessIPv6": {"type": "string", "format": "ipv6"},
    }
    if not since("2.57"):
        fields["personality"] = _PERSONALITY
    if since("2.19"):
        fields["description"] = _DESCRIPTION
    if since("2.54"):
        # Not a "name" here: nova takes any 1-255 characters, or null to drop the key.
        fields["key_name"] = {"type": ["string", "null"], "minLength": 1, "maxLength": 255}
    if since("2.57"):
        fields["user_data"] = {**_USER_DATA, "type": ["string", "null"]}
    if since("2.63"):
        fields["trusted_image_certificates"] = _TRUSTED_CERTIFICATES
    if since("2.90"):
        fields["hostname"] = _HOST_NAME if since("2.94") else _HOSTNAME_LABEL
    return _body("rebuild", _object(fields, "imageRef"))


def _evacuate(version: Version) -> _Schema:
    fields: _Schema = {"host": _HOST_NAME, "adminPass": {"type": "string"}}
    required: list[str] = []
    if not _since(version, "2.14"):
        fields["onSharedStorage"] = _FLAG
        required.append("onSharedStorage")
    if _since(version, "2.29") and not _since(version, "2.68"):
        fields["force"] = _FLAG
    return _body("evacuate", _object(fields, *required))


def _live_migrate(version: Version) -> _Schema:
    fields: _Schema = {"host": _HOST_OR_NULL}
    if _since(version, "2.25"):
        fields["block_migration"] = {**_FLAG, "enum": [*_FLAG["enum"], "auto"]}
        required = ["block_migration", "host"]
    else:
        fields["block_migration"] = _FLAG
        fields["disk_over_commit"] = _FLAG
        required = ["block_migration", "disk_over_commit", "host"]
    if _since(version, "2.30") and not _since(version, "2.68"):
        fields["force"] = _FLAG
    return _body("os-migrateLive", _object(fields, *required))


def _console(action: str, *types: str) -> _Schema:
    return _body(action, _object({"type": {"type": "string", "enum": list(types)}}, "type"))


def _named(action: str, field: str, value: _Schema) -> _Schema:
    return _body(action, _object({field: value}, field))


def _bare(action: str) -> _Schema:
    """An action whose value nova does not look at (``{"pause": null}``, ``{"pause": {}}``)."""
    return _body(action, {})


# Nova validates nothing here: a body is not read (resetNetwork, os-getRDPConsole are gone
# and answer an error whatever is sent), or no schema is declared (migrate before 2.56;
# unlock from 2.73, whose schema nova's 2.73 change to lock left behind at 2.72).
_UNCHECKED: _Schema = {}

_SECURITY_GROUP: _Schema = _object({"name": {"type": "string", "minLength": 1}}, "name")
_IMAGE_NAME_AND_METADATA: _Schema = {"name": _NAME, "metadata": _METADATA}

ACTIONS: dict[str, dict[str, _Schema]] = {
    "reboot": {"2.1": _body("reboot", _object(
        {"type": {"type": "string", "enum": ["HARD", "Hard", "hard", "SOFT", "Soft", "soft"]}},
        "type"))},
    "resize": {"2.1": _body("resize", _object(
        {"flavorRef": {"type": ["string", "integer"], "minLength": 1},
         "OS-DCF:diskConfig": _DISK_CONFIG}, "flavorRef"))},
    "confirmResize": {"2.1": _bare("confirmResize")},
    "revertResize": {"2.1": _bare("revertResize")},
    "rebuild": {start: _rebuild(Version.parse(start))
                for start in ("2.1", "2.19", "2.54", "2.57", "2.63", "2.90", "2.94")},
    "createImage": {"2.1": _body("createImage", _object(_IMAGE_NAME_AND_METADATA, "name"))},
    "createBackup": {"2.1": _body("createBackup", _object(
        {**_IMAGE_NAME_AND_METADATA,
         "backup_type": {"type": "string"},
         "rotation": {"type": ["integer", "string"], "minimum": 0, "minLength": 1,
                      "pattern": "^[0-9]*$"}},
        "name", "backup_type", "rotation"))},
    "os-start": {"2.1": _bare("os-start")},
    "os-stop": {"2.1": _bare("os-stop")},
    "pause": {"2.1": _bare("pause")},
    "unpause": {"2.1": _bare("unpause")},
    "suspend": {"2.1": _bare("suspend")},
    "resume": {"2.1": _bare("resume")},
    "lock": {"2.1": _bare("lock"),
             "2.73": _body("lock", _object(
                 {"locked_reason": {"type": "string", "minLength": 1, "maxLength": 255}},
                 nullable=True))},
    "unlock": {"2.1": _bare("unlock"), "2.73": _UNCHECKED},
    "rescue": {"2.1": _body("rescue", _object(
        {"adminPass": {"type": "string"}, "rescue_image_ref": _UUID}, nullable=True))},
    "unrescue": {"2.1": _bare("unrescue")},
    "shelve": {"2.1": _bare("shelve")},
    "shelveOffload": {"2.1": _bare("shelveOffload")},
    "unshelve": {
        "2.1": _bare("unshelve"),
        "2.77": _body("unshelve", _object({"availability_zone": _NAME}, "availability_zone",
                                          nullable=True)),
        # 2.91: null unpins the availability zone, and an admin may name a host.
        "2.91": _body("unshelve", _object(
            {"availability_zone": {"type": ["string", "null"]}, "host": {"type": "string"}},
            nullable=True)),
    },
    "migrate": {"2.1": _UNCHECKED,
                "2.56": _body("migrate", _object({"host": _HOST_OR_NULL}, nullable=True))},
    "os-migrateLive": {start: _live_migrate(Version.parse(start))
                       for start in ("2.1", "2.25", "2.30", "2.68")},
    "evacuate": {start: _evacuate(Version.parse(start))
                 for start in ("2.1", "2.14", "2.29", "2.68")},
    "os-getConsoleOutput": {"2.1": _body("os-getConsoleOutput", _object(
        # At least -1 ("all of it"), as a number or a numeral.
        {"length": {"type": ["integer", "string", "null"], "minimum": -1,
                    "pattern": "^(?:[0-9]+|-0*[01])$"}}))},
    "os-resetState": {"2.1": _named("os-resetState", "state",
                                    {"type": "string", "enum": ["active", "error"]})},
    "os-getVNCConsole": {"2.1": _console("os-getVNCConsole", "novnc", "xvpvnc")},
    "os-getSPICEConsole": {"2.1": _console("os-getSPICEConsole", "spice-html5")},
    "os-getSerialConsole": {"2.1": _console("os-getSerialConsole", "serial")},
    "os-getRDPConsole": {"2.1": _UNCHECKED},
    # Nova lets other top-level keys through on these two.
    "addSecurityGroup": {"2.1": {**_body("addSecurityGroup", _SECURITY_GROUP),
                                 "additionalProperties": True}},
    "removeSecurityGroup": {"2.1": {**_body("removeSecurityGroup", _SECURITY_GROUP),
                                    "additionalProperties": True}},
    "changePassword": {"2.1": _named("changePassword", "adminPass", {"type": "string"})},
    "trigger_crash_dump": {"2.17": _body("trigger_crash_dump", {"type": "null"})},
    "restore": {"2.1": _bare("restore")},
    "forceDelete": {"2.1": _bare("forceDelete")},
    "injectNetworkInfo": {"2.1": _bare("injectNetworkInfo")},
    "resetNetwork": {"2.1": _UNCHECKED},
    "addFixedIp": {"2.1": _named("addFixedIp", "networkId", {
        "type": ["string", "number"], "minLength": 1, "maxLength": 36})},
    "removeFixedIp": {"2.1": _named("removeFixedIp", "address", _IP_ADDRESS)},
    "addFloatingIp": {"2.1": _body("addFloatingIp", _object(
        {"address": _IP_ADDRESS, "fixed_address": _IP_ADDRESS}, "address"))},
    "removeFloatingIp": {"2.1": _named("removeFloatingIp", "address", _IP_ADDRESS)},
}


# --------------------------------------------------------------------------- sub-resources


def _remote_console(protocols: list[str], types: list[str]) -> _Schema:
    return _body("remote_console", _object(
        {"protocol": {"type": "string", "enum": protocols},
         "type": {"type": "string", "enum": types}}, "protocol", "type"))


_PROTOCOLS = ["vnc", "spice", "serial", "rdp"]  # rdp is refused by the handler, not here
_CONSOLE_TYPES = ["novnc", "xvpvnc", "spice-html5", "serial", "rdp-html5"]
REMOTE_CONSOLE_CREATE: dict[str, _Schema] = {
    "2.6": _remote_console(_PROTOCOLS, _CONSOLE_TYPES),
    "2.8": _remote_console([*_PROTOCOLS, "mks"], [*_CONSOLE_TYPES, "webmks"]),
    "2.99": _remote_console([*_PROTOCOLS, "mks"], [*_CONSOLE_TYPES, "webmks", "spice-direct"]),
}

METADATA_REPLACE: dict[str, _Schema] = {"2.1": _body("metadata", _METADATA)}
METADATA_UPDATE: dict[str, _Schema] = {"2.1": _body("metadata", _METADATA)}
METADATA_ITEM: dict[str, _Schema] = {
    "2.1": _body("meta", {**_METADATA, "minProperties": 1, "maxProperties": 1}),
}
TAGS_REPLACE: dict[str, _Schema] = {"2.26": _body("tags", _TAGS)}
