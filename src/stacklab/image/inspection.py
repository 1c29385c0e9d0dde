"""What an image's data really is: glance's check of uploaded bytes against ``disk_format``.

glance (2024.2 on, ``glance/location.py``'s ``ImageProxy.set_data``) streams the data of a
``bare`` image through oslo.utils' format inspectors (``oslo_utils.imageutils
.format_inspector``: qcow2, vhd, vhdx, vmdk, vdi, qed, iso, gpt, luks, else raw) while it
stores it, then decides:

- the detected format is the image's ``disk_format``: accepted, and the inspector's
  virtual size becomes the image's ``virtual_size``;
- nothing was recognised (raw) and the ``disk_format`` is one no inspector knows (ami,
  ari, aki, ploop): accepted, no virtual size;
- the ``disk_format`` is ``raw`` whatever was found: accepted, the virtual size is the
  byte count (a raw disk may legitimately hold anything);
- any other mismatch: refused when ``[image_format] require_image_format_match`` (the
  default), else accepted without a virtual size;
- an ISO that also carries a GPT (a bootable ISO) counts as ISO; any other double match
  is refused (one header may hide another);
- whatever was detected must then pass its inspector's safety checks (a qcow2 with a
  backing file, a data file or unknown incompatible features; a VMDK whose descriptor
  is not monolithicSparse/streamOptimized or names extent files; a QED at all; a GPT
  whose protective MBR is malformed, unless the failed checks are listed in
  ``[image_format] gpt_safety_checks_nonfatal``). A failure refuses the data whatever
  ``require_image_format_match`` says.

Images of any other container format are stored uninspected, as glance does.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, cast

from oslo_utils.imageutils import format_inspector as fi

LOG = logging.getLogger("glance.location")

INSPECTED_CONTAINER = "bare"


class InvalidImageData(Exception):
    """glance's ``InvalidImageData``: the data does not match its image (415 on upload)."""


@dataclass(frozen=True)
class FormatPolicy:
    """glance-api.conf's ``[image_format]`` options that bear on inspection."""

    require_image_format_match: bool = True
    gpt_safety_checks_nonfatal: frozenset[str] = field(default_factory=frozenset)


class _Feed:
    """The source an ``InspectWrapper`` reads: the one chunk handed to it last."""

    def __init__(self) -> None:
        self.chunk = b""

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        return self.chunk


class DataInspector:
    """Watches an image's bytes go by, then says what they are (or refuses them)."""

    def __init__(self) -> None:
        self._feed = _Feed()
        # Every inspector of oslo.utils, none expected: a mismatch is decided at the end,
        # as glance does, so the whole upload is read first.
        self._wrapper = fi.InspectWrapper(cast(IO[bytes], self._feed))
        self._closed = False
        self._seen = 0

    def eat(self, chunk: bytes) -> None:
        if chunk:
            self._seen += len(chunk)
            self._feed.chunk = chunk
            next(self._wrapper)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._wrapper.close()

    def check(self, disk_format: str | None, policy: FormatPolicy) -> int | None:
        """The virtual size the data gives its image (None when unknown), or
        ``InvalidImageData`` with glance's message when the data is refused."""
        self.close()
        if not self._seen:
            # No bytes, no format to contradict: the empty upload nova makes to activate
            # a volume-backed server's snapshot image (disk_format qcow2, size 0).
            return None
        inspector: fi.FileInspector | None = None
        virtual_size = 0
        try:
            inspector = self._detected()
            name = str(inspector)
            if name == disk_format:
                virtual_size = inspector.virtual_size
            elif name == "raw" and disk_format not in fi.ALL_FORMATS:
                LOG.info("Image format %s is not an inspectable type", disk_format)
            elif disk_format == "raw":
                # Claimed raw: glance lets any content through as a disk's bytes, sized
                # by its length rather than by the format it happens to look like.
                LOG.warning("Image claims 'raw' disk_format but is actually %r", name)
                virtual_size = inspector.actual_size
            else:
                raise fi.ImageFormatError(
                    f"Image disk_format {disk_format} does not match stream data {name}")
            inspector.safety_check()
        except AttributeError:
            # glance's own ``except AttributeError: pass`` (meant for data it did not wrap)
            # also lets an inspector's attribute error through: the data is accepted.
            pass
        except fi.ImageFormatError as exc:
            if policy.require_image_format_match:
                raise InvalidImageData(str(exc)) from None
            LOG.warning("Image format %s did not match; unable to calculate virtual size",
                        disk_format)
        except fi.SafetyCheckFailed as exc:
            fatal = set(exc.failures) - policy.gpt_safety_checks_nonfatal
            if inspector is not None and inspector.NAME == "gpt" and not fatal:
                LOG.warning("Non-fatal %s", exc)
            else:
                LOG.warning("Image %s %s", inspector, exc)
                raise InvalidImageData("Image failed safety checks") from None
        except Exception as exc:
            LOG.error("Unable to determine stream format because: %s", exc)
            if policy.require_image_format_match:
                raise InvalidImageData("Image format inspection failed") from None
        return virtual_size or None

    def _detected(self) -> fi.FileInspector:
        """The one format found (raw when none), as glance chooses among the matches."""
        matches = self._wrapper.formats or []
        by_name = {str(match): match for match in matches}
        if set(by_name) == {"iso", "gpt"}:
            # A bootable ISO may carry a GPT boot loader in front.
            return by_name["iso"]
        if len(matches) > 1:
            # oslo.utils names them in a set's order; sorted, the message is stable.
            raise fi.ImageFormatError(
                f"Multiple formats detected: {','.join(sorted(by_name))}")
        if not matches:
            raise fi.ImageFormatError("Content does not match any allowed format")
        return matches[0]


def inspect(chunks: Iterable[bytes], disk_format: str | None,
            policy: FormatPolicy) -> int | None:
    """Inspect stored data at once: ``DataInspector.check`` over ``chunks``."""
    inspector = DataInspector()
    for chunk in chunks:
        inspector.eat(chunk)
    return inspector.check(disk_format, policy)
