from tests.dualwrite.conftest import DV, LINK


def test_initial_sync_fills_dataverse(api, synced) -> None:
    accounts = api.get(f"{DV}/accounts?$select=accountnumber,name,creditlimit&$orderby=accountnumber").json()["value"]
    assert [a["accountnumber"] for a in accounts] == ["DE-001", "US-001", "US-002"]
    assert {m.state for m in synced.dualwrite.maps(LINK)} == {"running"}
