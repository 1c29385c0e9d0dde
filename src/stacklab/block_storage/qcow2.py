"""A raw disk written as a qcow2 image, as ``qemu-img convert -O qcow2`` makes one for
cinder's upload of a volume to an image in that format: version 3, 64 KiB clusters,
16-bit refcounts, only the clusters holding data allocated (zero clusters stay holes)."""

from __future__ import annotations

import struct

CLUSTER_BITS = 16
CLUSTER = 1 << CLUSTER_BITS
L2_ENTRIES = CLUSTER // 8
REFCOUNT_ORDER = 4  # 16-bit refcounts, qemu-img's default
HEADER_LENGTH = 104  # a version 3 header without optional fields
COPIED = 1 << 63  # the cluster's refcount is exactly one


def raw_to_qcow2(data: bytes, virtual_size: int) -> bytes:
    """``data`` (the disk's first bytes; the rest reads as zeros) as a qcow2 image of
    ``virtual_size`` bytes."""
    virtual_size = max(virtual_size, len(data))
    l1_entries = max(1, -(-virtual_size // (L2_ENTRIES * CLUSTER)))
    l1_clusters = -(-l1_entries * 8 // CLUSTER)
    # Clusters holding anything but zeros, by guest cluster number.
    used = [index for index in range(-(-len(data) // CLUSTER))
            if data[index * CLUSTER:(index + 1) * CLUSTER].strip(b"\x00")]
    tables = sorted({index // L2_ENTRIES for index in used})
    # Layout: header, refcount table, then the L1 table, the L2 tables and the data; the
    # refcount blocks last (sized once the rest is counted).
    l1_at = 2
    l2_at = {table: l1_at + l1_clusters + n for n, table in enumerate(tables)}
    data_at = {index: l1_at + l1_clusters + len(tables) + n for n, index in enumerate(used)}
    before_blocks = l1_at + l1_clusters + len(tables) + len(used)
    per_block = CLUSTER * 8 // (1 << REFCOUNT_ORDER)
    blocks = -(-(before_blocks + 1) // per_block)
    while -(-(before_blocks + blocks) // per_block) > blocks:
        blocks += 1
    if blocks * 8 > CLUSTER:
        raise ValueError("disk too large for one refcount table cluster")
    total = before_blocks + blocks
    image = bytearray(total * CLUSTER)
    struct.pack_into(
        ">4sIQIIQIIQQIIQQQQII", image, 0, b"QFI\xfb", 3, 0, 0, CLUSTER_BITS, virtual_size,
        0, l1_entries, l1_at * CLUSTER, CLUSTER, 1, 0, 0, 0, 0, 0, REFCOUNT_ORDER,
        HEADER_LENGTH)
    for n in range(blocks):
        struct.pack_into(">Q", image, CLUSTER + 8 * n, (before_blocks + n) * CLUSTER)
    for table, cluster in l2_at.items():
        struct.pack_into(">Q", image, l1_at * CLUSTER + 8 * table, cluster * CLUSTER | COPIED)
    for index, cluster in data_at.items():
        l2 = l2_at[index // L2_ENTRIES] * CLUSTER + 8 * (index % L2_ENTRIES)
        struct.pack_into(">Q", image, l2, cluster * CLUSTER | COPIED)
        chunk = data[index * CLUSTER:(index + 1) * CLUSTER]
        image[cluster * CLUSTER:cluster * CLUSTER + len(chunk)] = chunk
    for cluster in range(total):
        block = before_blocks + cluster // per_block
        struct.pack_into(">H", image, block * CLUSTER + 2 * (cluster % per_block), 1)
    return bytes(image)
