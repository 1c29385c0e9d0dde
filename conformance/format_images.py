"""The disk images of Tempest's ``ImagesFormatTest``: os-test-images' set, made here.

Tempest's ``[image] images_manifest_file`` names a manifest of sample images (name, format,
usable, file) that openstack/os-test-images generates with qemu-img, mkisofs and parted;
devstack's lib/tempest clones it, runs its generator and names the manifest, with
``image_format_enforcement`` set as glance's ``require_image_format_match`` (true).
os-test-images is no package (no PyPI release) and a run reaches no git server, so this
module makes the same images itself: the same names (they are the scenario names of
Tempest's test ids), formats and usable flags, each made by the same tools. Every image is
made, as os-test-images does, unless its tool lacks the format (qemu-img without qed,
mkisofs without UDF). The tools come from Debian's ``qemu-utils``, ``genisoimage`` and
``parted``, which ``conformance.venv`` installs when it can; without them no manifest is
written and Tempest skips the tests ("Image format testing is not configured"), which
``skips.py`` reports as ours (the summary's ``format images`` line names what is missing).
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

TOOLS = ("qemu-img", "mkisofs", "parted")
# Debian's packages holding them (os-test-images' bindep.txt names the same).
PACKAGES = ("qemu-utils", "genisoimage", "parted")
MANIFEST = "manifest.yaml"
# The small file every generated ISO holds and the unsafe images point at (a host file the
# service must never expose).
HOST_FILE = "/etc/hosts"


@dataclass(frozen=True)
class SampleImage:
    name: str
    format: str
    usable: bool      # a service should take it
    insecure: bool    # it tries to reach outside itself
    steps: tuple[tuple[str, ...], ...]   # commands, run in the output folder
    what: str
    finish: Callable[[Path], None] | None = None
    # Whether the tools here can make this format at all (None: they always can).
    supported: Callable[[], bool] | None = None

    @property
    def filename(self) -> str:
        return f"{self.name}.{self.format}"


def _vmdk_with_footer(path: Path) -> None:
    """A monolithicSparse VMDK turned into one whose grain directory offset is in a footer
    (VMware's tools write these): the header says "see the footer", and the file ends with
    a footer marker, the footer (the header as it was) and an end-of-stream marker."""
    sector = 512
    with path.open("r+b") as disk:
        header = disk.read(sector)
        disk.seek(56)   # the header's gdOffset
        disk.write(struct.pack("<Q", 0xFFFFFFFFFFFFFFFF))
        disk.seek(0, 2)
        marker = bytearray(sector)
        struct.pack_into("<I", marker, 12, 3)   # marker type 3: footer
        disk.write(bytes(marker) + header + bytes(sector))   # then end-of-stream (type 0)


def _qemu_img(fmt: str, filename: str, size: str, *options: str) -> tuple[str, ...]:
    return ("qemu-img", "create", "-f", fmt, *options, filename, size)


def _iso(name: str, *options: str) -> tuple[str, ...]:
    return ("mkisofs", *options, "-V", name, "-o", f"{name}.iso", HOST_FILE)


IMAGES: tuple[SampleImage, ...] = (
    SampleImage("standard-qcow2v3", "qcow2", True, False,
                (_qemu_img("qcow2", "standard-qcow2v3.qcow2", "10M"),),
                "an empty qcow2 (version 3) with nothing outside it"),
    SampleImage("qcow-with-backing", "qcow2", False, True,
                (_qemu_img("qcow2", "qcow-with-backing.qcow2", "10M", "-F", "raw", "-b",
                           HOST_FILE),),
                "a qcow2 over a backing file of the host"),
    SampleImage("qcow-with-datafile", "qcow2", False, True,
                (_qemu_img("qcow2", "qcow-with-datafile.qcow2", "10M", "-o",
                           "data_file=qcow-data-file,data_file_raw=on"),
                 ("rm", "qcow-data-file")),
                "a qcow2 whose data lives in an external data file"),
    SampleImage("raw-blank", "raw", True, False,
                (_qemu_img("raw", "raw-blank.raw", "1M"),),
                "an unformatted (sparse, all zeros) file"),
    SampleImage("gpt-blank", "gpt", True, False,
                (_qemu_img("raw", "gpt-blank.gpt", "1M"),
                 ("parted", "gpt-blank.gpt", "--script", "mklabel gpt")),
                "a whole disk: protective MBR and an empty GPT"),
    SampleImage("standard", "qed", False, False,
                (_qemu_img("qed", "standard.qed", "10M"),),
                "an empty QED, a format no service should take",
                supported=lambda: "qed" in _help("qemu-img", "-h").split()),
    SampleImage("standard-iso9660", "iso", True, False,
                (_iso("standard-iso9660"),),
                "an ISO 9660 file system holding one file"),
    SampleImage("standard-udf", "iso", True, False,
                (_iso("standard-udf", "-udf"),),
                "a UDF file system holding one file",
                supported=lambda: "-udf" in _help("mkisofs", "-help").split()),
    SampleImage("iso-with-qcow2-in-system", "iso", False, True,
                (_iso("iso-with-qcow2-in-system"),
                 _qemu_img("qcow2", "tmp.qcow", "10M"),
                 ("dd", "if=tmp.qcow", "of=iso-with-qcow2-in-system.iso", "bs=32k",
                  "count=1", "conv=notrunc"),
                 ("rm", "tmp.qcow")),
                "an ISO whose system area holds a qcow2 header (qemu-img takes it for a "
                "qcow2)"),
    SampleImage("vmdk-monolithicSparse", "vmdk", True, False,
                (_qemu_img("vmdk", "vmdk-monolithicSparse.vmdk", "10M", "-o",
                           "subformat=monolithicSparse"),),
                "a VMDK of one sparse extent, its descriptor embedded"),
    SampleImage("vmdk-streamOptimized", "vmdk", True, False,
                (_qemu_img("vmdk", "vmdk-streamOptimized.vmdk", "10M", "-o",
                           "subformat=streamOptimized"),),
                "a streamOptimized VMDK (no footer)"),
    SampleImage("vmdk-monolithicFlat", "vmdk", False, False,
                (_qemu_img("vmdk", "vmdk-monolithicFlat.vmdk", "10M", "-o",
                           "subformat=monolithicFlat"),
                 ("rm", "vmdk-monolithicFlat-flat.vmdk")),
                "a text descriptor naming an extent file beside it"),
    SampleImage("vmdk-monolithicFlat-leak", "vmdk", False, True,
                (_qemu_img("vmdk", "vmdk-monolithicFlat-leak.vmdk", "10M", "-o",
                           "subformat=monolithicFlat"),
                 ("sed", "-i", f"s#vmdk-monolithicFlat-leak-flat.vmdk#{HOST_FILE}#",
                  "vmdk-monolithicFlat-leak.vmdk"),
                 ("rm", "vmdk-monolithicFlat-leak-flat.vmdk")),
                "a text descriptor whose extent is a host file"),
    SampleImage("vmdk-sparse-with-url-backing", "vmdk", False, True,
                (_qemu_img("vmdk", "vmdk-sparse-with-url-backing.vmdk", "10M", "-o",
                           "subformat=monolithicSparse"),),
                "a sparse VMDK whose embedded descriptor names a host file as extent",
                finish=lambda path: _point_extent_at(path, HOST_FILE)),
    SampleImage("vmdk-sparse-with-footer", "vmdk", True, False,
                (_qemu_img("vmdk", "vmdk-sparse-with-footer.vmdk", "10M", "-o",
                           "subformat=monolithicSparse"),),
                "a sparse VMDK whose footer overrides its header",
                finish=_vmdk_with_footer),
)


def _point_extent_at(path: Path, target: str) -> None:
    """Rename the extent in a sparse VMDK's embedded descriptor (its second sector)."""
    with path.open("r+b") as disk:
        disk.seek(512)
        sector = disk.read(512)
        renamed = sector.replace(path.name.encode(), target.encode())[:512].ljust(512, b"\0")
        disk.seek(512)
        disk.write(renamed)


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def _help(*command: str) -> str:
    """A tool's help text (both streams: mkisofs writes it to stderr)."""
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False,
                                timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return result.stdout + result.stderr


def generate(folder: Path) -> tuple[Path, int]:
    """Make every image the tools can into ``folder`` and write Tempest's manifest there.
    The manifest's path and how many images it lists; ``RuntimeError`` naming what is
    missing or what failed."""
    missing = missing_tools()
    if missing:
        raise RuntimeError(f"missing {', '.join(missing)} (Debian: {' '.join(PACKAGES)})")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    made = []
    for image in IMAGES:
        if image.supported is not None and not image.supported():
            continue
        for command in image.steps:
            result = subprocess.run(command, cwd=folder, capture_output=True, text=True,
                                    check=False, timeout=120)
            if result.returncode != 0:
                raise RuntimeError(f"{' '.join(command)} exited {result.returncode}: "
                                   f"{(result.stderr or result.stdout).strip()[-500:]}")
        if image.finish is not None:
            image.finish(folder / image.filename)
        made.append({"name": image.name, "format": image.format, "usable": image.usable,
                     "insecure": image.insecure, "filename": image.filename,
                     "description": image.what})
    manifest = folder / MANIFEST
    manifest.write_text(yaml.safe_dump({"images": made}, sort_keys=False))
    return manifest, len(made)
