"""raw_to_qcow2: read back through the image's own tables, and checked by glance's
format inspector (stacklab's port of it)."""

from __future__ import annotations

import struct

from stacklab.block_storage.qcow2 import raw_to_qcow2
from stacklab.image.inspection import DataInspector, FormatPolicy


def read_qcow2(image: bytes) -> bytes:
    """The guest's bytes up to the last allocated cluster, through L1 and L2."""
    (_, _, _, _, bits, size, _, l1_entries, l1_at) = struct.unpack_from(">4sIQIIQIIQ", image)
    cluster = 1 << bits
    mask = (1 << 62) - 1 - (cluster - 1)
    out = bytearray()
    for table in range(l1_entries):
        l2_at = struct.unpack_from(">Q", image, l1_at + 8 * table)[0] & mask
        for entry in range(cluster // 8):
            at = struct.unpack_from(">Q", image, l2_at + 8 * entry)[0] & mask if l2_at else 0
            guest = (table * (cluster // 8) + entry) * cluster
            if at:
                out.extend(bytes(guest - len(out)))
                out.extend(image[at:at + cluster])
    return bytes(out[:size])


def test_raw_to_qcow2_keeps_the_data_and_is_a_valid_qcow2() -> None:
    data = b"A" * 100 + bytes(3 * 65536) + b"B" * 70000
    image = raw_to_qcow2(data, 1024 ** 3)
    assert image[:4] == b"QFI\xfb"
    # Header, refcount table, L1, one L2, three data clusters (the two zero ones stay
    # holes), one refcount block.
    assert len(image) == 8 * 65536
    assert read_qcow2(image)[:len(data)] == data
    inspector = DataInspector()
    inspector.eat(image)
    assert inspector.check("qcow2", FormatPolicy()) == 1024 ** 3
