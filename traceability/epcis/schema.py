"""An EPCIS 2.0 document checked against GS1's official JSON Schema (draft-07), offline.

Every problem is listed, each with where it is in the document, so a partner fixes them all
at once; "date-time" and "uri" formats are checked too (jsonschema's format-nongpl extra).
"""

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jsonschema import Draft7Validator

SCHEMA_PATH = Path(__file__).with_name("EPCIS-JSON-Schema.json")


@cache
def validator() -> "Draft7Validator":
    # Imported on first use, not with the URLs: jsonschema's format checks compile an IRI
    # grammar at import (about 2 s), which every web process and worker start would pay.
    from jsonschema import Draft7Validator, FormatChecker

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return Draft7Validator(schema, format_checker=FormatChecker())


def _where(path) -> str:
    return "/" + "/".join(str(part) for part in path) if path else "/"


def schema_errors(document) -> list[str]:
    """Each way the document breaks the schema, as "<JSON pointer>: <message>", in document
    order; empty when it is valid."""
    errors = sorted(validator().iter_errors(document), key=lambda error: list(error.path))
    return [f"{_where(error.path)}: {error.message}" for error in errors]
