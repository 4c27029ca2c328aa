"""Start the KnowCo app: `python run_app.py [--demo] [--db PATH_OR_URL] [--port N] [--host ADDR] [--model ...]`.

Creates the database on first run (SQLite file by default), empty: the app's first screen offers to import
the curator's KG or load the demo; `--demo` loads the bundled demo KG into an empty database at once (the
README's one-command tour). Then hands over to Streamlit. Binds to 127.0.0.1 unless told otherwise; on any other address it requires curator
accounts (`python -m knowco user add`) and every session must log in.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def main() -> int:
    parser = argparse.ArgumentParser(description="Start the KnowCo curation app.")
    parser.add_argument("--db", help="SQLite file or database URL (default: $KNOWCO_DATABASE_URL or ./knowco.sqlite)")
    parser.add_argument("--port", type=int, default=8501)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--model", help="backbone name or path for training (default: the offline tiny model)")
    parser.add_argument("--user", help="default curator name, also recorded on the demo import (default: OS user)")
    parser.add_argument("--demo", action="store_true", help="load the bundled demo KG if the database is empty")
    args = parser.parse_args()

    from knowco.services import (CURATOR_ERRORS, Actor, accounts_path, has_accounts, open_database,
                                 seed_demo_if_empty, settings)

    config = settings().with_flags(database=args.db, model=args.model, user=args.user)
    try:
        database = open_database(config.database)
        if args.demo and seed_demo_if_empty(database, Actor(config.default_user(), "admin")):
            print("KnowCo: new database seeded with the demo KG")
        config = config.with_flags(database=database.url)
        database.dispose()
        if args.host not in LOOPBACK:
            if not has_accounts():
                print(f"error: serving on {args.host} (beyond this machine) needs curator accounts, and "
                      f"{accounts_path()} has none: add one with `python -m knowco user add NAME --role admin`",
                      file=sys.stderr)
                return 2
            config = config.with_flags(require_login=True)
    except CURATOR_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    os.environ.update(config.as_environment())
    command = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app" / "main.py"),
        "--server.port", str(args.port), "--server.address", args.host,
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        # errors are shown by the pages as sentences; anything that escapes them must not show a traceback
        "--client.showErrorDetails", "none", "--server.fileWatcherType", "none",
        "--server.maxUploadSize", "200", "--client.toolbarMode", "minimal",
    ]
    os.execv(sys.executable, command)


if __name__ == "__main__":
    sys.exit(main())
