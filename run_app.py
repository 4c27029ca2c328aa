"""Start the KnowCo app: `python run_app.py [--db PATH_OR_URL] [--port N] [--host ADDR] [--model NAME_OR_PATH]`.

Creates the database on first run (SQLite file by default) and seeds it with the bundled demo KG, then hands
over to Streamlit. Binds to 127.0.0.1 unless told otherwise; on any other address it requires curator
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
    parser.add_argument("--user", help="curator name for the demo import (default: OS user)")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from knowco.demo import seed_demo_if_empty
    from knowco.settings import DATABASE_ENV, LOGIN_ENV, MODEL_ENV
    from storage.audit import default_user
    from storage.database import StorageError, open_database, resolve_url

    try:
        url = resolve_url(args.db)
        database = open_database(url)
        if seed_demo_if_empty(database, args.user or default_user()):
            print("KnowCo: new database seeded with the demo KG")
        database.dispose()
    except StorageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    os.environ[DATABASE_ENV] = url
    if args.host not in LOOPBACK:
        from knowco.accounts import AccountError, accounts_path, has_accounts

        try:
            ready = has_accounts()
        except AccountError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if not ready:
            print(f"error: serving on {args.host} (beyond this machine) needs curator accounts, and "
                  f"{accounts_path()} has none: add one with `python -m knowco user add NAME --role admin`",
                  file=sys.stderr)
            return 2
        os.environ[LOGIN_ENV] = "1"
    if args.model:
        os.environ[MODEL_ENV] = args.model
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
