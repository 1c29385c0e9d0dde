"""The runner's loopback file server: what glance's web-download fetches during a run."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from conformance.fileserver import FileServer


def test_it_serves_the_files_on_loopback_until_stopped() -> None:
    data = b"QFI\xfb" + bytes(range(256)) * 4
    with FileServer({"/cirros.img": data}) as files:
        url = files.url("/cirros.img")
        assert url == f"http://127.0.0.1:{files.port}/cirros.img"
        with urllib.request.urlopen(url, timeout=5) as response:
            assert response.read() == data
            assert response.headers["Content-Length"] == str(len(data))
        head = urllib.request.Request(url, method="HEAD")
        with urllib.request.urlopen(head, timeout=5) as response:
            assert response.read() == b""
            assert response.headers["Content-Length"] == str(len(data))
    with pytest.raises(OSError):
        urllib.request.urlopen(url, timeout=2)


def test_any_other_path_is_not_found() -> None:
    with FileServer({"/cirros.img": b"x"}) as files:
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"http://127.0.0.1:{files.port}/etc/passwd", timeout=5)
        assert caught.value.code == 404
        with pytest.raises(KeyError):
            files.url("/other.img")


def test_paths_are_absolute() -> None:
    with pytest.raises(ValueError):
        FileServer({"cirros.img": b"x"})
