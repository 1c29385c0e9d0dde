"""os-test-images' sample images as the harness makes them (conformance/format_images.py),
and stacklab's glance on each: it takes every usable one and refuses every other."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conformance import format_images
from stacklab.image.inspection import FormatPolicy, InvalidImageData, inspect

pytestmark = pytest.mark.skipif(
    bool(format_images.missing_tools()),
    reason=f"needs {', '.join(format_images.missing_tools())} "
           f"(Debian: {' '.join(format_images.PACKAGES)})")


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path, count = format_images.generate(tmp_path_factory.mktemp("format-images"))
    assert count == len(yaml.safe_load(path.read_text())["images"])
    return path


def test_the_manifest_is_tempest_s(manifest: Path) -> None:
    images = yaml.safe_load(manifest.read_text())["images"]
    names = [image["name"] for image in images]
    assert len(names) == len(set(names))
    # The scenario names of Tempest's test ids: os-test-images' own.
    assert {"standard-qcow2v3", "qcow-with-backing", "raw-blank", "standard-iso9660",
            "vmdk-sparse-with-footer"} <= set(names)
    for image in images:
        assert (manifest.parent / image["filename"]).stat().st_size > 0, image
        assert image["filename"] == f"{image['name']}.{image['format']}"
        assert isinstance(image["usable"], bool)


def test_glance_takes_the_usable_images_and_refuses_the_others(manifest: Path) -> None:
    verdicts = {}
    for image in yaml.safe_load(manifest.read_text())["images"]:
        data = (manifest.parent / image["filename"]).read_bytes()
        chunks = [data[at:at + 65536] for at in range(0, len(data), 65536)]
        try:
            inspect(chunks, image["format"], FormatPolicy())
        except InvalidImageData:
            verdicts[image["name"]] = False
        else:
            verdicts[image["name"]] = True
    expected = {image["name"]: image["usable"]
                for image in yaml.safe_load(manifest.read_text())["images"]}
    assert verdicts == expected
