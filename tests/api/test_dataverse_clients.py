"""Real Dataverse clients, unmodified, against a live Isthmus:

* Microsoft's ``powerplatform-dataverse-client`` 1.1.0 — the sync client over local TLS (a self-signed certificate
  trusted through ``REQUESTS_CA_BUNDLE``) and the async client over plain http;
* ``dataverse-api`` 1.4.3 — its entity discovery (five metadata calls), create one by one and in a batch, read with
  a filter and with paging, and update through upsert by primary id and by alternate key.

Both authenticate for real: their credential gets an access token from Isthmus' own ``/oauth2/token`` with the
client-credentials grant of an application user, and the Web API validates it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from azure.core.credentials import AccessToken

from isthmus.api.app import create_app
from isthmus.system import System
from tests.live import self_signed_certificate, serve


CLIENT_ID, CLIENT_SECRET = "sdk-tests", "a-long-enough-client-secret"
DATAVERSE = "api://isthmus/dataverse/.default"


def fetch_token(base: str) -> AccessToken:
    """The client-credentials grant against Isthmus' token endpoint (what an Entra credential does against Entra)."""
    answer = requests.post(f"{base}/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "scope": DATAVERSE,
    }, timeout=10)
    answer.raise_for_status()
    body = answer.json()
    return AccessToken(body["access_token"], int(time.time()) + body["expires_in"])


class IsthmusCredential:
    """A TokenCredential (the SDK only checks for get_token): the SDK asks for ``<url>/.default``; Isthmus' Dataverse
    resource is ``api://isthmus/dataverse``, so the credential asks for that."""

    def __init__(self, base: str) -> None:
        self.base = base

    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        return fetch_token(self.base)


class AsyncIsthmusCredential:
    def __init__(self, base: str) -> None:
        self.base = base

    async def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        return await asyncio.to_thread(fetch_token, self.base)

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> AsyncIsthmusCredential:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


@pytest.fixture
def secured(dataverse_url: str, tmp_path: Path) -> Iterator[System]:
    """A system that requires tokens, with an application user for the tests."""
    from isthmus.config import Settings

    system = System(Settings(data_dir=tmp_path, dataverse_database_url=dataverse_url, development_mode=False))
    principal = system.directory.create_application(CLIENT_ID, "SDK tests", CLIENT_SECRET)
    system.dataverse.ensure_application_user(principal.object_id, "SDK tests", roles=("System Administrator",))
    yield system
    system.close()


@pytest.fixture
def tls_server(secured: System, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    certfile, keyfile = self_signed_certificate(tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certfile)
    with serve(create_app(secured), certfile=certfile, keyfile=keyfile) as base:
        yield base


@pytest.fixture
def http_server(secured: System) -> Iterator[str]:
    with serve(create_app(secured)) as base:
        yield base


def test_microsoft_sdk_sync_over_tls(tls_server: str) -> None:
    from PowerPlatform.Dataverse.client import DataverseClient
    from PowerPlatform.Dataverse.models.upsert import UpsertItem

    with DataverseClient(tls_server, IsthmusCredential(tls_server)) as client:
        account_id = client.records.create("account", {"name": "Contoso", "accountnumber": "C-0001", "creditlimit": 2000})
        record = client.records.retrieve("account", account_id, select=["name", "creditlimit"])
        assert record["name"] == "Contoso" and float(record["creditlimit"]) == 2000
        assert record.etag and record.etag.startswith('W/"')

        ids = client.records.create("account", [{"name": f"Bulk {n}", "accountnumber": f"B-{n:03d}"} for n in range(7)])
        assert len(ids) == 7 and len(set(ids)) == 7

        result = client.records.list("account", filter="startswith(name,'bulk')", select=["name"], orderby=["name"], page_size=3)
        assert [r["name"] for r in result] == [f"Bulk {n}" for n in range(7)]

        client.records.update("account", account_id, {"creditlimit": 5000})
        assert float(client.records.retrieve("account", account_id, select=["creditlimit"])["creditlimit"]) == 5000

        client.records.upsert("account", [UpsertItem(alternate_key={"accountnumber": "C-0001"}, record={"telephone1": "555-0100"})])
        client.records.upsert("account", [
            UpsertItem(alternate_key={"accountnumber": "C-0001"}, record={"websiteurl": "https://contoso.example"}),
            UpsertItem(alternate_key={"accountnumber": "N-0001"}, record={"name": "New by upsert"}),
        ])
        updated = client.records.retrieve("account", account_id, select=["telephone1", "websiteurl"])
        assert updated["telephone1"] == "555-0100" and updated["websiteurl"] == "https://contoso.example"
        created = client.records.list("account", filter="accountnumber eq 'N-0001'", select=["name"])
        assert [r["name"] for r in created] == ["New by upsert"]

        batch = client.batch.new()
        batch.records.create("account", {"name": "From batch"})
        batch.records.retrieve("account", account_id)
        outcome = batch.execute()
        responses = list(getattr(outcome, "responses", outcome))
        assert len(responses) == 2
        assert client.records.list("account", filter="name eq 'From batch'", select=["name"])

        client.records.delete("account", account_id)
        assert client.records.retrieve("account", account_id) is None


def test_microsoft_sdk_async_over_http(http_server: str) -> None:
    from PowerPlatform.Dataverse.aio import AsyncDataverseClient

    async def scenario() -> None:
        async with AsyncDataverseClient(http_server, AsyncIsthmusCredential(http_server)) as client:
            contact_id = await client.records.create("contact", {"firstname": "Ann", "lastname": "Lee"})
            record = await client.records.retrieve("contact", contact_id, select=["fullname"])
            assert record["fullname"] == "Ann Lee"

    asyncio.run(scenario())


def test_dataverse_api_client(http_server: str) -> None:
    from dataverse_api import DataverseClient

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {fetch_token(http_server).token}"
    client = DataverseClient(session=session, environment_url=f"{http_server}/")
    accounts = client.entity("account")
    accounts.create([{"name": "Northwind", "accountnumber": "NW-1"}, {"name": "Litware", "accountnumber": "LW-1"}], mode="individual")
    rows = accounts.read(select=["name", "accountnumber"], filter="startswith(accountnumber,'NW')")
    assert [r["name"] for r in rows] == ["Northwind"]
    accounts.create([{"name": "Tailspin", "accountnumber": "TS-1"}], mode="batch")
    everything = accounts.read(select=["name"], page_size=2)
    assert sorted(r["name"] for r in everything) == ["Litware", "Northwind", "Tailspin"]
    record_id = rows[0]["accountid"]
    accounts.upsert([{"accountid": record_id, "telephone1": "555-0199"}])  # by primary id: an update
    accounts.upsert([{"accountnumber": "LW-1", "creditlimit": 750}], altkey_name="accountnumber_key")
    check = session.get(f"{http_server}/api/data/v9.2/accounts({record_id})?$select=telephone1", timeout=10).json()
    assert check["telephone1"] == "555-0199"
    assert accounts.read(select=["creditlimit"], filter="accountnumber eq 'LW-1'")[0]["creditlimit"] == 750
