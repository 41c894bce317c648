"""The OpenAPI schema's view of every operation, refusals included.

drf-spectacular documents the success answer only; a client (and the contract test,
tests/common/test_api_contract.py) must also know which refusals an operation can answer,
and in what shape. They come from the common machinery, so they are added here, once.
"""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ComponentIdentity, ResolvedComponent
from rest_framework import permissions

# Amounts and measured decimals travel as strings ("12.50"), never as floats (DESIGN.md: money
# is Decimal, sent as DRF's COERCE_DECIMAL_TO_STRING sends it); fields that render a Decimal
# themselves say so with @extend_schema_field(DECIMAL_STRING).
DECIMAL_STRING = {
    "type": "string",
    "format": "decimal",
    "pattern": r"^-?\d+(\.\d+)?$",
    "example": "12.50",
}
NULLABLE_DECIMAL_STRING = {**DECIMAL_STRING, "nullable": True}

ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "A refusal. `detail` says why; where input is at fault, each field named instead "
        "lists its messages (`non_field_errors` for the whole)."
    ),
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": {},
}


class ApiAutoSchema(AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        error = ResolvedComponent(
            name="Error",
            type=ResolvedComponent.SCHEMA,
            object=ComponentIdentity("Error"),
            schema=ERROR_SCHEMA,
        )
        registry.register_on_missing(error)
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query" and not parameter.get("required"):
                # `?grade=` is the same as leaving grade out, as forms send it.
                parameter["allowEmptyValue"] = True
        responses = operation["responses"]
        for code, description in self._refusals(operation):
            responses.setdefault(
                code,
                {
                    "description": description,
                    "content": {"application/json": {"schema": error.ref}},
                },
            )
        return operation

    def _refusals(self, operation: dict) -> list[tuple[str, str]]:
        """The status codes the operation can refuse with, each with when it does."""
        parameters = operation.get("parameters", [])
        refusals = []
        if "requestBody" in operation or parameters:
            refusals.append(("400", "The input is invalid or a business rule refuses it."))
        if "requestBody" in operation:
            # DRF answers 415 to a body it has no parser for, or whose multipart is malformed.
            refusals.append(("415", "The body's media type is not one this operation reads."))
        security = operation.get("security", [])
        if security and {} not in security:
            refusals.append(("401", "No valid credentials were given."))
            refusals.append(("403", "The signed-in user's role may not do this."))
        # Ids come in paths, query parameters and bodies, and a page may be past the last.
        refusals.append(("404", "Not found, or not yours to see."))
        if self.method not in permissions.SAFE_METHODS:
            refusals.append(("409", "The object's current state does not allow this."))
        if self.view.get_throttles():
            refusals.append(("429", "Too many requests; try again later."))
        return refusals


class OneObjectListSchema(ApiAutoSchema):
    """For a ViewSet whose `list` answers one object (a price board, a reconciliation), which
    drf-spectacular would otherwise document as an array of it."""

    def _is_list_view(self, serializer=None) -> bool:
        return False
