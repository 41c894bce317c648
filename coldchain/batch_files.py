"""Reading a logger's batch: JSON or its CSV file, into rows (dicts) not yet checked;
coldchain/ingest.py checks and stores them."""

import csv
import io
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from orjson import JSONDecodeError
from orjson import loads as json_loads

from .exceptions import MalformedBatch

CSV_COLUMNS = (
    "recorded_at",
    "temperature_c",
    "humidity_pct",
    "latitude",
    "longitude",
    "battery_pct",
)
CSV_REQUIRED_COLUMNS = ("recorded_at", "temperature_c")
# The key under which the CSV reader marks a line with the wrong number of values; a header
# name can never be it (the csv module refuses NUL characters).
RAGGED = "\x00values"


@dataclass(frozen=True)
class JsonBatch:
    rows: list
    accept_partial: bool | None  # None when the body does not say


def parse_json_batch(body: bytes) -> JsonBatch:
    """`{"readings": [{...}, ...], "accept_partial": false}` → its rows, unchecked."""
    if not body.strip():
        raise MalformedBatch(_('The body is empty: send {"readings": [...]}.'))
    try:
        data = json_loads(body)
    except JSONDecodeError as error:
        raise MalformedBatch(
            _("The body is not valid JSON: %(reason)s (line %(line)d, column %(column)d).")
            % {"reason": error.msg, "line": error.lineno, "column": error.colno}
        ) from error
    if not isinstance(data, dict):
        raise MalformedBatch(_('Send a JSON object holding a list: {"readings": [...]}.'))
    rows = data.get("readings")
    if not isinstance(rows, list):
        raise MalformedBatch(_("Give the readings as a list of objects."), field="readings")
    accept_partial = data.get("accept_partial")
    if accept_partial is not None and not isinstance(accept_partial, bool):
        raise MalformedBatch(_("Must be true or false."), field="accept_partial")
    return JsonBatch(rows=rows, accept_partial=accept_partial)


def parse_csv_batch(content: bytes, *, encoding: str | None = None) -> list[dict]:
    """A logger's CSV file → one dict of strings per line after the header row, unchecked.

    The header names the columns (CSV_COLUMNS, any order, any case; `recorded_at` and
    `temperature_c` required; others ignored). Blank lines are skipped and not counted. The
    text is UTF-8 (a byte-order mark is fine) unless `encoding` says otherwise: desktop
    exports of Chinese loggers are often GBK.
    """
    try:
        text = content.decode(encoding or "utf-8-sig")
    except LookupError as error:
        raise MalformedBatch(
            _("Unknown character set “%(encoding)s”.") % {"encoding": encoding}
        ) from error
    except UnicodeDecodeError as error:
        raise MalformedBatch(
            _(
                "The CSV file is not %(encoding)s text (byte %(position)d); say its character set, e.g. text/csv; charset=gbk."
            )
            % {"encoding": encoding or "UTF-8", "position": error.start}
        ) from error
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if not header:
            raise MalformedBatch(
                _("The CSV file is empty; its first line names the columns: %(columns)s.")
                % {"columns": ",".join(CSV_COLUMNS)}
            )
        names = [name.strip().lower() for name in header]
        if missing := [name for name in CSV_REQUIRED_COLUMNS if name not in names]:
            raise MalformedBatch(
                _("The CSV header lacks %(missing)s; it names %(found)s.")
                % {"missing": ", ".join(missing), "found": ", ".join(names)}
            )
        if len(set(names)) != len(names):
            raise MalformedBatch(_("The CSV header names a column twice."))
        width = len(names)
        rows: list[dict[str, Any]] = []
        for values in reader:
            if not values or (len(values) == 1 and not values[0].strip()):
                continue
            if len(values) != width:
                rows.append({RAGGED: (reader.line_num, len(values), width)})
            else:
                rows.append(dict(zip(names, values, strict=True)))
    except csv.Error as error:
        raise MalformedBatch(
            _("The CSV file is malformed at line %(line)d: %(reason)s.")
            % {"line": reader.line_num, "reason": error}
        ) from error
    return rows
