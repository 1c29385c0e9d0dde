"""QoS specs and their associations; availability zones."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from support.inprocess import admin_token
from unit.block_storage.cinder_calls import V3, at, member_token


@pytest.fixture
def admin(client: TestClient) -> str:
    return admin_token(client)


def test_qos_specs_life_and_associations(client: TestClient, admin: str) -> None:
    made = client.post(f"{V3}/qos-specs", headers=at(admin), json={"qos_specs": {
        "name": "limits", "read_iops_sec": "100"}})
    assert made.status_code == 200, made.text
    qos = made.json()["qos_specs"]
    assert (qos["consumer"], qos["specs"]) == ("back-end", {"read_iops_sec": "100"})
    assert made.json()["links"][0]["href"].endswith(f"/volume/v3/qos-specs/{qos['id']}")
    assert client.post(f"{V3}/qos-specs", headers=at(admin), json={"qos_specs": {
        "name": "limits"}}).status_code == 409
    assert client.post(f"{V3}/qos-specs", headers=at(admin), json={"qos_specs": {
        "name": "bad", "consumer": "nowhere"}}).status_code == 400
    url = f"{V3}/qos-specs/{qos['id']}"
    set_ = client.put(url, headers=at(admin), json={"qos_specs": {"write_iops_sec": "50"}})
    assert set_.json() == {"qos_specs": {"write_iops_sec": "50"}}
    specs = client.get(url, headers=at(admin)).json()["qos_specs"]["specs"]
    assert specs == {"read_iops_sec": "100", "write_iops_sec": "50"}
    assert client.put(f"{url}/delete_keys", headers=at(admin),
                      json={"keys": ["read_iops_sec"]}).status_code == 202
    assert client.put(f"{url}/delete_keys", headers=at(admin),
                      json={"keys": ["read_iops_sec"]}).status_code == 404

    volume_type = client.post(f"{V3}/types", headers=at(admin), json={
        "volume_type": {"name": "with-qos"}}).json()["volume_type"]["id"]
    assert client.get(f"{url}/associate", headers=at(admin)).status_code == 400
    assert client.get(f"{url}/associate?vol_type_id=nope",
                      headers=at(admin)).status_code == 404
    assert client.get(f"{url}/associate?vol_type_id={volume_type}",
                      headers=at(admin)).status_code == 202
    assert client.get(f"{url}/associations", headers=at(admin)).json() == {
        "qos_associations": [{"association_type": "volume_type", "name": "with-qos",
                              "id": volume_type}]}
    shown = client.get(f"{V3}/types/{volume_type}", headers=at(admin)).json()
    assert shown["volume_type"]["qos_specs_id"] == qos["id"]
    in_use = client.delete(url, headers=at(admin))
    assert in_use.status_code == 400
    assert client.get(f"{url}/disassociate?vol_type_id={volume_type}",
                      headers=at(admin)).status_code == 202
    assert client.get(f"{url}/associations", headers=at(admin)).json() == {
        "qos_associations": []}
    client.get(f"{url}/associate?vol_type_id={volume_type}", headers=at(admin))
    assert client.delete(f"{url}?force=True", headers=at(admin)).status_code == 202
    assert client.get(url, headers=at(admin)).status_code == 404
    assert client.get(f"{V3}/types/{volume_type}", headers=at(admin)).json()[
        "volume_type"]["qos_specs_id"] is None


def test_qos_specs_are_the_admins(client: TestClient, admin: str) -> None:
    member, _ = member_token(client, admin, "qos")
    assert client.get(f"{V3}/qos-specs", headers=at(member)).status_code == 403
    assert client.post(f"{V3}/qos-specs", headers=at(member), json={
        "qos_specs": {"name": "x"}}).status_code == 403


def test_availability_zones(client: TestClient, admin: str) -> None:
    listed = client.get(f"{V3}/os-availability-zone", headers=at(admin))
    assert listed.json() == {"availabilityZoneInfo": [
        {"zoneName": "nova", "zoneState": {"available": True}}]}
