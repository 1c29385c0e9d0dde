"""The image every lab has from its first start: a tiny stand-in for CirrOS.

The bytes are generated, not a real CirrOS build: a QCOW2 header followed by
a fixed pattern, a few KB, the same on every machine (so its checksum is
stable and tests may rely on it).
"""

from __future__ import annotations

import hashlib
import struct

CIRROS_NAME = "cirros-0.6.2-x86_64-disk"
CIRROS_PROPERTIES = {"hw_rng_model": "virtio", "os_distro": "cirros",
                     "os_version": "0.6.2", "description": "stacklab's stand-in for CirrOS"}
_SIZE = 16 * 1024


def cirros_bytes() -> bytes:
    # QCOW2 magic and version 3, then a virtual size of 112 MiB, as the real image has.
    header = b"QFI\xfb" + struct.pack(">I", 3) + bytes(16) + struct.pack(">Q", 117440512)
    pattern = bytearray(header)
    block = hashlib.sha256(b"stacklab cirros").digest()
    while len(pattern) < _SIZE:
        pattern += block
        block = hashlib.sha256(block).digest()
    return bytes(pattern[:_SIZE])
