"""The OpenAPI document and Swagger UI, served with no outside network."""

import re

import pytest
from drf_spectacular.validation import validate_schema


@pytest.mark.django_db
def test_schema_is_a_valid_openapi_3_document(client):
    response = client.get("/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"})

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)  # raises on anything the OpenAPI 3 JSON schema refuses
    assert {"/api/auth/token/", "/api/me/"} <= schema["paths"].keys()


@pytest.mark.django_db
def test_swagger_ui_is_served_from_local_static_files(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert not re.search(r"https?://", page)
    # No inline script or style: the Content-Security-Policy refuses them.
    assert "<script>" not in page
    assert "<style" not in page
    start_up = client.get("/api/docs/?script=")
    assert start_up.status_code == 200
    assert start_up["Content-Type"].startswith("application/javascript")
    # Swagger UI's own default would fetch a badge from validator.swagger.io.
    assert '"validatorUrl": null' in start_up.content.decode()


@pytest.mark.django_db
def test_swagger_ui_files_are_there_to_be_served(client):
    response = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    response.close()  # a streamed file: close it, as a server would

    assert response.status_code == 200
