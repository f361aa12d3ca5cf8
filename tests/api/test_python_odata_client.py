"""A real third-party OData v4 client, python-odata 0.8.1, against a live /data server: it reflects $metadata,
queries CustomersV3 with a filter, creates a customer and patches it (composite key with dataAreaId, keys emitted in
alphabetical order, @odata.type in the bodies, decimals as floats)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from odata import ODataService

from isthmus.api.app import create_app
from isthmus.system import System
from tests.live import serve


@pytest.fixture
def service(system: System) -> Iterator[tuple[ODataService, str]]:
    with serve(create_app(system)) as base, requests.Session() as session:
        yield ODataService(f"{base}/data/", session=session, reflect_entities=True, quiet_progress=True), base


def test_python_odata_reads_queries_creates_and_patches(service: tuple[ODataService, str]) -> None:
    svc, base = service
    Customers = svc.entities["CustomersV3"]

    rows = svc.query(Customers).filter(Customers.OrganizationName == "Fabrikam").all()
    assert [r.CustomerAccount for r in rows] == ["US-002"]

    limited = svc.query(Customers).filter(Customers.CreditLimit > 1000).all()
    assert [r.CustomerAccount for r in limited] == ["US-001"]

    new = Customers()
    new.dataAreaId = "usmf"
    new.CustomerAccount = "US-900"
    new.OrganizationName = "Litware"
    new.CustomerGroupId = "20"
    new.CreditLimit = 2500.75
    svc.save(new)

    fetched = svc.query(Customers).get(dataAreaId="usmf", CustomerAccount="US-900")
    assert fetched.OrganizationName == "Litware"
    assert float(fetched.CreditLimit) == 2500.75

    fetched.OrganizationName = "Litware Inc."
    fetched.CreditLimit = 5000
    svc.save(fetched)

    check = requests.get(f"{base}/data/CustomersV3(dataAreaId='usmf',CustomerAccount='US-900')", timeout=10).json()
    assert check["OrganizationName"] == "Litware Inc." and check["CreditLimit"] == 5000
    assert check["@odata.etag"] == 'W/"2"'
