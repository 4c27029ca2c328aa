"""The API against its own schema (schemathesis): no generated request is answered with a 500, and every
operation refuses an anonymous caller. Starting a retrain (a worker process) is left out of the fuzzing and
tested on its own (tests/test_api.py)."""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from fastapi.testclient import TestClient

from knowco.api import create_app
from knowco.services import Actor, add_token, open_database, seed_demo
from tests.storage_helpers import queued

_folder = tempfile.TemporaryDirectory(prefix="knowco-fuzz-")
_database = open_database(str(Path(_folder.name) / "kg.sqlite"))
seed_demo(_database, Actor("seeder", "admin"))
queued(_database, [("aspirin", "treats", "gout", 0.9), ("ibuprofen", "treats", "asthma", 0.8)])
ADMIN = add_token(_database, "fuzz-admin", Actor("fuzzer", "admin"), "tester").secret
APP = create_app(_database)
schema = schemathesis.openapi.from_asgi("/v1/openapi.json", APP).exclude(path="/v1/retrains", method="POST")


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_generated_request_is_answered_with_a_500(case):
    response = case.call(headers={"Authorization": f"Bearer {ADMIN}"})
    assert response.status_code < 500, response.text


OPERATIONS = sorted((path, method) for path, methods in APP.openapi()["paths"].items() for method in methods)


@pytest.mark.parametrize("path,method", [(p, m) for p, m in OPERATIONS if p != "/v1/login"])
def test_every_operation_refuses_an_anonymous_caller(path, method):
    client = TestClient(APP, raise_server_exceptions=False)
    concrete = path.replace("{triple_id}", "1").replace("{check_id}", "1").replace("{run_id}", "1") \
        .replace("{fmt}", "csv")
    response = client.request(method.upper(), concrete)
    assert response.status_code == 401, (method, path, response.text)


CURATOR = add_token(_database, "fuzz-curator", Actor("fuzz-curator", "curator"), "tester").secret
ADMIN_ONLY = [("post", "/v1/imports", {"files": {"file": ("kg.tsv", b"a\tr\tb\n")}}),
              ("post", "/v1/documents", {"files": {"file": ("note.txt", b"A sentence.\n")}}),
              ("post", "/v1/retrains", {"json": {}}), ("post", "/v1/retrains/1/cancel", {}),
              ("post", "/v1/versions/1/activate", {}), ("get", "/v1/exports/csv", {}),
              ("patch", "/v1/labels", {"json": {"edits": [{"example_id": 1, "delete": True}]}})]


@pytest.mark.parametrize("method,path,kwargs", ADMIN_ONLY, ids=[f"{m} {p}" for m, p, _ in ADMIN_ONLY])
def test_a_curator_is_refused_where_an_admin_is_needed(method, path, kwargs):
    """Before any lookup: a curator learns nothing of which ids exist (there is no run 1 here)."""
    client = TestClient(APP, raise_server_exceptions=False)
    response = client.request(method.upper(), path, headers={"Authorization": f"Bearer {CURATOR}"}, **kwargs)
    assert response.status_code == 403 and response.json()["error"]["kind"] == "forbidden", response.text
