"""Export and import of the ledger, in one place for the command line.

The work is in `storage.export` (JSON format version 1 and CSV, streamed) and
`storage.load` (a JSON export into an empty database, in bulk).
"""

from __future__ import annotations

from storage.export import (
    CSV_COLUMNS,
    FORMAT,
    VERSION,
    export_document,
    groups_matching,
    write_csv,
    write_json,
)
from storage.load import ImportRefused, import_document

__all__ = [
    "CSV_COLUMNS",
    "FORMAT",
    "VERSION",
    "ImportRefused",
    "export_document",
    "groups_matching",
    "import_document",
    "write_csv",
    "write_json",
]
