"""The client-side files ``stacklab up`` writes: a clouds.yaml entry and an openrc."""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Any

import yaml

CLOUD_NAME = "stacklab"


def default_clouds_yaml() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "openstack" / "clouds.yaml"


def cloud_entry(auth_url: str, password: str, region: str) -> dict[str, Any]:
    return {
        "auth": {
            "auth_url": auth_url,
            "username": "admin",
            "password": password,
            "project_name": "admin",
            "user_domain_name": "Default",
            "project_domain_name": "Default",
        },
        "region_name": region,
        "identity_api_version": 3,
        "interface": "public",
    }


def write_clouds_yaml(path: Path, entry: dict[str, Any], name: str = CLOUD_NAME) -> None:
    """Add or replace our entry, keeping every other cloud the file lists."""
    document: dict[str, Any] = {}
    if path.exists():
        loaded = yaml.safe_load(path.read_text()) or {}
        if isinstance(loaded, dict):
            document = loaded
    clouds = document.setdefault("clouds", {})
    clouds[name] = entry
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(yaml.safe_dump(document, sort_keys=False))
    temporary.chmod(0o600)
    temporary.replace(path)


def openrc_vars(entry: dict[str, Any]) -> dict[str, str]:
    auth = entry["auth"]
    return {
        "OS_AUTH_URL": auth["auth_url"],
        "OS_USERNAME": auth["username"],
        "OS_PASSWORD": auth["password"],
        "OS_PROJECT_NAME": auth["project_name"],
        "OS_USER_DOMAIN_NAME": auth["user_domain_name"],
        "OS_PROJECT_DOMAIN_NAME": auth["project_domain_name"],
        "OS_REGION_NAME": entry["region_name"],
        "OS_IDENTITY_API_VERSION": "3",
        "OS_INTERFACE": "public",
    }


def openrc(entry: dict[str, Any]) -> str:
    return "".join(f"export {k}={shlex.quote(v)}\n" for k, v in openrc_vars(entry).items())
