"""GET /openapi.json: every route, its query parameters and its security."""
import pytest


@pytest.fixture
def spec(client) -> dict:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_every_lapi_path_and_method(spec) -> None:
    operations = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    assert operations == {
        ("/health", "get"),
        ("/v1/decisions", "get"), ("/v1/decisions", "head"), ("/v1/decisions", "delete"),
        ("/v1/decisions/stream", "get"), ("/v1/decisions/stream", "head"),
        ("/v1/decisions/{decision_id}", "delete"),
        ("/v1/alerts", "get"), ("/v1/alerts", "head"), ("/v1/alerts", "post"),
        ("/v1/alerts", "delete"), ("/v1/alerts/{alert_id}", "get"),
        ("/v1/alerts/{alert_id}", "head"), ("/v1/alerts/{alert_id}", "delete"),
        ("/v1/watchers", "post"), ("/v1/watchers/login", "post"), ("/v1/watchers/self", "delete"),
        ("/v1/heartbeat", "get"), ("/v1/usage-metrics", "post"),
        ("/v1/allowlists", "get"), ("/v1/allowlists/{allowlist_name}", "get"),
        ("/v1/allowlists/{allowlist_name}", "head"), ("/v1/allowlists/check", "post"),
        ("/v1/allowlists/check/{ip_or_range}", "get"),
        ("/v1/allowlists/check/{ip_or_range}", "head"),
    }
    ids = [op["operationId"] for ops in spec["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))


def test_query_parameters_and_security(spec) -> None:
    stream = spec["paths"]["/v1/decisions/stream"]["get"]
    assert [p["name"] for p in stream["parameters"]] == [
        "startup", "scopes", "origins", "scenarios_containing", "scenarios_not_containing", "wait"]
    assert stream["security"] == [{"APIKeyAuthorizer": []}]
    delete = spec["paths"]["/v1/alerts/{alert_id}"]["delete"]
    assert [p["name"] for p in delete["parameters"]] == ["alert_id"]
    assert spec["paths"]["/v1/alerts"]["post"]["security"] == [{"JWTAuthorizer": []}]
    assert "security" not in spec["paths"]["/v1/watchers/login"]["post"]
    assert spec["paths"]["/v1/usage-metrics"]["post"]["security"] == [
        {"APIKeyAuthorizer": []}, {"JWTAuthorizer": []}]
    assert set(spec["components"]["securitySchemes"]) == {"APIKeyAuthorizer", "JWTAuthorizer"}
    alerts = {p["name"] for p in spec["paths"]["/v1/alerts"]["get"]["parameters"]}
    from lapi.alerts import PARAMETERS
    assert alerts == set(PARAMETERS)
    from lapi.decisions import DELETE_PARAMETERS
    assert {p["name"] for p in spec["paths"]["/v1/decisions"]["delete"]["parameters"]} == \
        set(DELETE_PARAMETERS)
