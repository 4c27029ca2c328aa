"""The API served for real (`python -m knowco serve-api` in its own process, beside the app's database) and
driven by the Python client with a token made on the command line."""
from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest

from knowco.cli import main as cli
from knowco.client import ApiError, KnowCo
from knowco.services import Actor, seed_demo
from storage.database import open_database
from tests.conftest import ROOT
from tests.storage_helpers import queued


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def served(tmp_path, capsys):
    path = tmp_path / "kg.sqlite"
    database = open_database(str(path))
    seed_demo(database, Actor("seeder", "admin"))
    queued(database, [("aspirin", "treats", "gout", 0.9), ("ibuprofen", "treats", "asthma", 0.8)])
    database.dispose()
    assert cli(["--db", str(path), "token", "add", "pipeline", "--role", "admin"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    port = _free_port()
    # two server processes, as on a machine with two CPUs: every call may land on either
    server = subprocess.Popen([sys.executable, "-m", "knowco", "--db", str(path), "serve-api", "--port", str(port),
                               "--workers", "2"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if server.poll() is not None:
                raise AssertionError(server.stdout.read().decode())
            time.sleep(0.1)
    yield url, token, path
    server.terminate()
    server.wait(timeout=10)


def test_a_pipeline_imports_labels_reviews_and_exports_through_the_client(served, tmp_path, capsys):
    url, token, path = served
    assert token.startswith("kc_")
    with KnowCo(url, token) as kc:
        assert kc.me() == {"name": "pipeline", "role": "admin"}
        (tmp_path / "more.tsv").write_text("zinc\ttreats\tcommon cold\n", encoding="utf-8")
        assert kc.import_file(tmp_path / "more.tsv")["created"]["triples"] == 1
        assert kc.add_label("aspirin", "treats", "fever") > 0
        first = kc.queue(limit=1)
        assert first["total"] == 2 and first["items"][0]["head"] == "aspirin"
        second = kc.queue(limit=1, after=first["next_after"])
        assert second["items"][0]["id"] != first["items"][0]["id"] and second["next_after"] is None
        assert "aspirin" in kc.accept(first["items"][0]["id"])
        with pytest.raises(ApiError) as refused:
            kc.accept(first["items"][0]["id"])
        assert refused.value.status == 400 and refused.value.kind == "bad_request"
        assert kc.undo().startswith("accept")
        assert b"zinc" in kc.export("csv")
        assert any(row["action"] == "import" for row in kc.history(limit=20)["items"])
    assert cli(["--db", str(path), "token", "revoke", "pipeline"]) == 0
    with KnowCo(url, token) as kc, pytest.raises(ApiError) as refused:
        kc.me()
    assert refused.value.status == 401
    capsys.readouterr()
    assert cli(["--db", str(path), "token", "list"]) == 0
    assert "pipeline\tas pipeline (admin)\trevoked " in capsys.readouterr().out
