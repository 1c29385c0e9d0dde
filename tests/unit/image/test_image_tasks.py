"""``GET /v2/images/{id}/tasks``: none (stacklab imports without tasks), for who sees the image."""

from __future__ import annotations

from starlette.testclient import TestClient

from support.inprocess import admin_token


def test_an_images_tasks_are_none_and_an_unknown_image_is_404(client: TestClient) -> None:
    headers = {"X-Auth-Token": admin_token(client)}
    image = client.get("/image/v2/images", headers=headers).json()["images"][0]["id"]
    answer = client.get(f"/image/v2/images/{image}/tasks", headers=headers)
    assert (answer.status_code, answer.json()) == (200, {"tasks": []})
    missing = client.get("/image/v2/images/00000000-0000-4000-8000-000000000000/tasks",
                         headers=headers)
    assert missing.status_code == 404
