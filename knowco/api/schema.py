"""`python -m knowco.api.schema`: write the served OpenAPI schema to `docs/openapi.json` (a test holds the
committed file to the served one, so a change of the API shows in review)."""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from knowco.api import create_app
from knowco.services import open_database

OUT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        database = open_database(str(Path(folder) / "schema.sqlite"))
        try:
            schema = create_app(database).openapi()
        finally:
            database.dispose()
    OUT.write_text(json.dumps(schema, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(schema['paths'])} paths")
    return 0


if __name__ == "__main__":
    sys.exit(main())
