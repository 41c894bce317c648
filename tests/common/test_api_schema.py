"""The OpenAPI schema says what the API sends: decimals as strings, one-object answers as
objects, and the refusals every operation can answer."""

import pytest

from tests.farms.factories import FarmFactory

pytestmark = pytest.mark.django_db

DECIMAL_STRING_FIELDS = [
    ("MyTrader", "balance"),
    ("MyStatement", "opening_balance"),
    ("MyStatement", "closing_balance"),
    ("StorageProfileOutput", "min_temperature_c"),
    ("StorageProfileOutput", "q10"),
    ("FarmOutput", "area_hectares"),
    ("DailyPrice", "avg_price"),
]


@pytest.fixture
def schema(client):
    return client.get("/api/schema/", {"format": "json"}).json()


@pytest.mark.parametrize(("component", "field"), DECIMAL_STRING_FIELDS)
def test_decimals_are_documented_as_the_strings_they_are_sent_as(schema, component, field):
    documented = schema["components"]["schemas"][component]["properties"][field]

    assert documented["type"] == "string"
    assert documented["format"] == "decimal"


def test_a_farms_area_is_sent_as_a_decimal_string(api_as, admin_user):
    farm = FarmFactory()

    area = api_as(admin_user).get(f"/api/farms/{farm.pk}/").json()["area_hectares"]

    assert isinstance(area, str)
    assert float(area) > 0


@pytest.mark.parametrize("path", ["/api/market/prices/", "/api/market/reconciliation/"])
def test_a_one_object_answer_is_not_documented_as_a_list(schema, path):
    answer = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]

    assert "$ref" in answer["schema"], answer


def test_every_operation_documents_its_refusals(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = operation["responses"].keys()
            assert "404" in codes, (method, path)
            if {} not in operation.get("security", [{}]):
                assert {"401", "403"} <= codes, (method, path)
            if method != "get":
                assert "409" in codes, (method, path)
            if operation.get("parameters") or "requestBody" in operation:
                assert "400" in codes, (method, path)
    refusal = schema["paths"]["/api/orders/{id}/accept/"]["post"]["responses"]["409"]
    assert refusal["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }


def test_an_empty_query_value_is_documented_as_leaving_it_out(schema):
    parameters = {p["name"]: p for p in schema["paths"]["/api/lots/"]["get"]["parameters"]}

    assert parameters["harvested_since"]["allowEmptyValue"] is True
    assert parameters["page_size"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 200}
