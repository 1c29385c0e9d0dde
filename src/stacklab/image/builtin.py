"""The image every lab has from its first start: a tiny stand-in for CirrOS.

The bytes are generated, not a real CirrOS build: a well-formed, empty QCOW2 (version 3)
of the real image's virtual size, 16 KiB, the same on every machine (so its checksum is
stable and tests may rely on it). Well-formed matters: glance inspects what is uploaded
(``inspection.py``), and this image's bytes travel through uploads (a server's snapshot,
a copy of it) as a real CirrOS would; ``qemu-img check`` finds no error in it.
"""

from __future__ import annotations

import struct

CIRROS_NAME = "cirros-0.6.2-x86_64-disk"
CIRROS_PROPERTIES = {"hw_rng_model": "virtio", "os_distro": "cirros",
                     "os_version": "0.6.2", "description": "stacklab's stand-in for CirrOS"}
VIRTUAL_SIZE = 117440512  # 112 MiB, as the real cirros-0.6.2-x86_64-disk.img has

# Layout (qemu's docs/interop/qcow2.txt): 4 KiB clusters; cluster 0 the header, 1 the
# refcount table, 2 its one refcount block, 3 the L1 table (all zeros: nothing
# allocated, the disk reads as zeros).
_CLUSTER_BITS = 12
_CLUSTER = 1 << _CLUSTER_BITS
_REFCOUNT_TABLE, _REFCOUNT_BLOCK, _L1_TABLE = _CLUSTER, 2 * _CLUSTER, 3 * _CLUSTER
_CLUSTERS = 4
# One L2 table maps cluster/8 clusters; the L1 table has an entry per L2 table.
_L1_ENTRIES = -(-VIRTUAL_SIZE // ((_CLUSTER // 8) * _CLUSTER))
_REFCOUNT_ORDER = 4  # 16-bit refcounts, qemu-img's default
_HEADER_LENGTH = 104  # a version 3 header without optional fields


def cirros_bytes() -> bytes:
    image = bytearray(_CLUSTERS * _CLUSTER)
    header = struct.pack(
        ">4sIQIIQIIQQIIQQQQII",
        b"QFI\xfb", 3,
        0, 0,  # no backing file (offset, length)
        _CLUSTER_BITS, VIRTUAL_SIZE,
        0,  # not encrypted
        _L1_ENTRIES, _L1_TABLE,
        _REFCOUNT_TABLE, 1,  # one cluster of refcount table
        0, 0,  # no snapshots
        0, 0, 0,  # no incompatible, compatible or autoclear features
        _REFCOUNT_ORDER, _HEADER_LENGTH)
    image[:len(header)] = header
    # After the header, the extension list's end marker: eight zero bytes, already there.
    struct.pack_into(">Q", image, _REFCOUNT_TABLE, _REFCOUNT_BLOCK)
    for cluster in range(_CLUSTERS):
        struct.pack_into(">H", image, _REFCOUNT_BLOCK + 2 * cluster, 1)
    return bytes(image)
