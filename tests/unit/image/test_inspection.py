"""glance's inspection of image data (image/inspection.py), through the image API of an
in-process cloud: an upload (or a glance-direct import) whose bytes are not its
``disk_format``, or are unsafe, is refused with glance's 415 and message; accepted data
gives the image its ``virtual_size``. The disk images are built here, byte by byte, after
the formats' specifications (qemu's qcow2.txt, VMware's VMDK, ECMA-119, UEFI's GPT)."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from stacklab.api.app import build_app
from stacklab.cloud import Cloud
from stacklab.image.builtin import VIRTUAL_SIZE, cirros_bytes
from support.inprocess import admin_token, ephemeral_config

# -- disk images ----------------------------------------------------------------------------


def qcow2(*, backing_file: bool = False, data_file: bool = False) -> bytes:
    """The lab's CirrOS stand-in (an empty, valid qcow2 v3), optionally made unsafe."""
    image = bytearray(cirros_bytes())
    if backing_file:
        name = b"/etc/hosts"
        struct.pack_into(">QI", image, 8, 512, len(name))  # backing file offset, length
        image[512:512 + len(name)] = name
    if data_file:
        image[79] |= 0x04  # incompatible feature bit 2: an external data file
    return bytes(image)


def vmdk(create_type: str = "monolithicSparse", extent: str = "disk.vmdk",
         sectors: int = 20480) -> bytes:
    """A hosted sparse extent: its header, then its embedded descriptor in sector 1."""
    header = struct.pack("<4sIIQQQQIQQ", b"KDMV", 1, 3, sectors, 128, 1, 1, 512, 0, 21)
    descriptor = (f'# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\n'
                  f'createType="{create_type}"\n\n# Extent description\n'
                  f'RW {sectors} SPARSE "{extent}"\n\n'
                  f'ddb.virtualHWVersion = "4"\n').encode()
    return header.ljust(512, b"\0") + descriptor.ljust(512, b"\0") + bytes(4096)


def vmdk_flat() -> bytes:
    """A text descriptor naming a flat extent file beside it (monolithicFlat)."""
    return (b'# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\n'
            b'createType="monolithicFlat"\n\nRW 20480 FLAT "disk-flat.vmdk" 0\n')


ISO_BLOCKS = 20


def iso(system_area: bytes = b"") -> bytes:
    """ECMA-119: 16 sectors of system area, then the primary volume descriptor."""
    descriptor = bytearray(2048)
    descriptor[0:7] = b"\x01CD001\x01"
    # Both-endian fields: little-endian, then the same big-endian.
    struct.pack_into("<I", descriptor, 80, ISO_BLOCKS)  # volume space size, in blocks
    struct.pack_into(">I", descriptor, 84, ISO_BLOCKS)
    struct.pack_into("<H", descriptor, 128, 2048)  # logical block size
    struct.pack_into(">H", descriptor, 130, 2048)
    area = system_area.ljust(32 * 1024, b"\0")
    return (area + descriptor).ljust(ISO_BLOCKS * 2048, b"\0")


def gpt(*, protective_entry: bool = True) -> bytes:
    """A protective MBR: one partition of type 0xEE from LBA 1 (UEFI 2.10, 5.2.3)."""
    disk = bytearray(4096)
    disk[510:512] = b"\x55\xaa"
    if protective_entry:
        disk[446:462] = struct.pack("<BBBBBBBBII", 0, 0, 2, 0, 0xEE, 0, 0, 0, 1, 7)
    return bytes(disk)


RAW = b"just some bytes of a raw disk " * 100


# -- the cloud ------------------------------------------------------------------------------


class Glance:
    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.headers = {"X-Auth-Token": admin_token(client)}

    def __call__(self, method: str, path: str, **kw: Any) -> Any:
        response = self.client.request(method, f"/image{path}",
                                       headers={**self.headers, **kw.pop("headers", {})},
                                       **kw)
        assert response.status_code < 500, response.text
        return response

    def image(self, disk_format: str, container_format: str = "bare") -> str:
        answer = self("POST", "/v2/images", json={
            "name": "inspected", "disk_format": disk_format,
            "container_format": container_format})
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])

    def upload(self, image_id: str, data: bytes, *, stage: bool = False) -> Any:
        return self("PUT", f"/v2/images/{image_id}/{'stage' if stage else 'file'}",
                    content=data, headers={"Content-Type": "application/octet-stream"})

    def show(self, image_id: str) -> dict[str, Any]:
        shown: dict[str, Any] = self("GET", f"/v2/images/{image_id}").json()
        return shown


def _glance(**image_format: str) -> Iterator[Glance]:
    config = ephemeral_config()
    for name, value in image_format.items():
        config.set("image_format", name, value)
    cloud = Cloud(config)
    cloud.start("http://testserver")
    try:
        with TestClient(build_app(cloud)) as client:
            yield Glance(client)
    finally:
        cloud.stop()


@pytest.fixture(scope="module")
def glance() -> Iterator[Glance]:
    """glance's defaults: a format must match, every safety check is fatal."""
    yield from _glance()


@pytest.fixture(scope="module")
def lenient() -> Iterator[Glance]:
    """``require_image_format_match = false``, the MBR check of a GPT non-fatal."""
    yield from _glance(require_image_format_match="false", gpt_safety_checks_nonfatal="mbr")


def refused(glance: Glance, disk_format: str, data: bytes, message: str) -> None:
    image_id = glance.image(disk_format)
    answer = glance.upload(image_id, data)
    assert answer.status_code == 415, answer.text
    assert answer.json()["message"] == message
    # glance puts the image back to queued; nothing of the data is kept.
    shown = glance.show(image_id)
    assert (shown["status"], shown["size"], shown["virtual_size"]) == ("queued", None, None)
    assert glance("GET", f"/v2/images/{image_id}/file").status_code == 204


def accepted(glance: Glance, disk_format: str, data: bytes,
             container_format: str = "bare") -> dict[str, Any]:
    image_id = glance.image(disk_format, container_format)
    answer = glance.upload(image_id, data)
    assert answer.status_code == 204, answer.text
    shown = glance.show(image_id)
    assert (shown["status"], shown["size"]) == ("active", len(data))
    return shown


# -- what is accepted, and the virtual size it gives --------------------------------------


@pytest.mark.parametrize(("disk_format", "data", "virtual_size"), [
    ("qcow2", qcow2(), VIRTUAL_SIZE),                    # the qcow2 header's size
    ("vmdk", vmdk(sectors=20480), 20480 * 512),          # the sparse header's capacity
    ("vmdk", vmdk("streamOptimized"), 20480 * 512),
    ("iso", iso(), ISO_BLOCKS * 2048),                   # the volume descriptor's size
    ("iso", iso(system_area=gpt()), ISO_BLOCKS * 2048),  # a bootable ISO: ISO, not GPT
    ("raw", RAW, len(RAW)),                              # its length
    ("raw", qcow2(), len(cirros_bytes())),               # "raw" takes any disk's bytes
    ("raw", gpt(), 4096),
])
def test_matching_data_is_accepted_with_its_virtual_size(
        glance: Glance, disk_format: str, data: bytes, virtual_size: int) -> None:
    assert accepted(glance, disk_format, data)["virtual_size"] == virtual_size


@pytest.mark.parametrize("disk_format", ["ami", "ari", "aki", "ploop"])
def test_formats_no_inspector_knows_take_unrecognised_data(glance: Glance,
                                                           disk_format: str) -> None:
    assert accepted(glance, disk_format, RAW)["virtual_size"] is None


def test_other_container_formats_are_not_inspected(glance: Glance) -> None:
    assert accepted(glance, "qcow2", RAW, container_format="ovf")["virtual_size"] is None


def test_the_lab_s_cirros_has_its_virtual_size(glance: Glance) -> None:
    (cirros,) = glance("GET", "/v2/images?os_distro=cirros").json()["images"]
    assert (cirros["disk_format"], cirros["virtual_size"]) == ("qcow2", VIRTUAL_SIZE)


# -- what is refused -------------------------------------------------------------------------


@pytest.mark.parametrize(("disk_format", "data", "message"), [
    ("qcow2", RAW, "Image disk_format qcow2 does not match stream data raw"),
    ("vmdk", qcow2(), "Image disk_format vmdk does not match stream data qcow2"),
    ("vhd", vmdk(), "Image disk_format vhd does not match stream data vmdk"),
    ("iso", RAW, "Image disk_format iso does not match stream data raw"),
    # An uninspectable format, but the data is one glance knows: something hides there.
    ("ami", gpt(), "Image disk_format ami does not match stream data gpt"),
    # One header inside another (a qcow2 in an ISO's system area fools qemu-img).
    ("iso", iso(system_area=qcow2()[:512]), "Multiple formats detected: iso,qcow2"),
])
def test_data_of_another_format_is_refused(glance: Glance, disk_format: str, data: bytes,
                                           message: str) -> None:
    refused(glance, disk_format, data, message)


@pytest.mark.parametrize(("disk_format", "data"), [
    ("qcow2", qcow2(backing_file=True)),   # would expose a file of the host
    ("qcow2", qcow2(data_file=True)),      # an external data file: the same, or worse
    ("raw", qcow2(backing_file=True)),     # claimed raw, but a qcow2 all the same
    ("vmdk", vmdk(extent="/etc/hosts")),   # an extent file outside the image
    ("vmdk", vmdk("monolithicFlat")),      # a subformat with external extents
    ("vmdk", vmdk_flat()),                 # a bare descriptor: extents elsewhere
    ("raw", b"QED\0".ljust(4096, b"\0")),  # QED: recognised, never allowed
    ("raw", gpt(protective_entry=False)),  # an MBR with no partition
])
def test_unsafe_data_is_refused(glance: Glance, disk_format: str, data: bytes) -> None:
    refused(glance, disk_format, data, "Image failed safety checks")


def test_a_refused_image_takes_data_again(glance: Glance) -> None:
    image_id = glance.image("qcow2")
    assert glance.upload(image_id, RAW).status_code == 415
    assert glance.upload(image_id, qcow2()).status_code == 204
    assert glance.show(image_id)["virtual_size"] == VIRTUAL_SIZE


# -- [image_format] options ------------------------------------------------------------------


def test_a_mismatch_passes_when_a_match_is_not_required(lenient: Glance) -> None:
    assert accepted(lenient, "qcow2", RAW)["virtual_size"] is None


def test_unsafe_data_is_refused_even_when_a_match_is_not_required(lenient: Glance) -> None:
    refused(lenient, "qcow2", qcow2(backing_file=True), "Image failed safety checks")


def test_gpt_checks_listed_as_nonfatal_let_the_data_through(lenient: Glance) -> None:
    assert accepted(lenient, "raw", gpt(protective_entry=False))["virtual_size"] == 4096


# -- glance-direct: the import inspects the staged data ------------------------------------


def import_staged(glance: Glance, disk_format: str, data: bytes) -> tuple[str, dict[str, Any]]:
    image_id = glance.image(disk_format)
    assert glance.upload(image_id, data, stage=True).status_code == 204
    # Staging does not inspect: the data waits, as it came, for the import.
    assert glance.show(image_id)["status"] == "uploading"
    answer = glance("POST", f"/v2/images/{image_id}/import",
                    json={"method": {"name": "glance-direct"}})
    assert answer.status_code == 202, answer.text
    (task,) = glance("GET", f"/v2/images/{image_id}/tasks").json()["tasks"]
    return image_id, task


def test_glance_direct_accepts_matching_staged_data(glance: Glance) -> None:
    image_id, task = import_staged(glance, "qcow2", qcow2())
    assert task["status"] == "success"
    shown = glance.show(image_id)
    assert (shown["status"], shown["virtual_size"]) == ("active", VIRTUAL_SIZE)


def test_glance_direct_fails_on_staged_data_of_another_format(glance: Glance) -> None:
    image_id, task = import_staged(glance, "qcow2", RAW)
    assert (task["status"], task["message"]) == (
        "failure", "Image disk_format qcow2 does not match stream data raw")
    shown = glance.show(image_id)
    assert (shown["status"], shown["size"], shown["virtual_size"]) == ("queued", None, None)
    # Queued again with nothing staged: the data may be staged anew.
    assert glance.upload(image_id, qcow2(), stage=True).status_code == 204
