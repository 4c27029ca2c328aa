"""The HTTP API: a token on every call, the roles the services check, one error shape, pages, idempotent
verdicts, uploads all or nothing, streamed exports, login throttling (HTTP 429), and the committed schema."""
from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from knowco.api import create_app
from knowco.services import Actor, add_token, queue, seed_demo
from tests.conftest import ROOT
from tests.storage_helpers import queued

SCHEMA = ROOT / "docs" / "openapi.json"


@pytest.fixture
def api(db):
    seed_demo(db, Actor("seeder", "admin"))
    queued(db, [("aspirin", "treats", "gout", 0.9), ("ibuprofen", "treats", "asthma", 0.8),
                ("metformin", "treats", "gout", 0.7)])
    client = TestClient(create_app(db), raise_server_exceptions=False)
    client.tokens = {role: add_token(db, f"{role}-token", Actor(f"{role}-bot", role), "tester").secret
                     for role in ("curator", "admin")}
    return client


def _as(client, role: str) -> dict:
    return {"Authorization": f"Bearer {client.tokens[role]}"}


def _error(response) -> dict:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "kind", "id"}, body
    return body["error"]


def test_every_call_needs_a_live_token_even_on_localhost(api, db):
    assert _error(api.get("/v1/queue")) == {"message": "this call needs a token: send 'Authorization: Bearer "
                                                       "<token>'", "kind": "unauthorized", "id": None}
    assert api.get("/v1/queue", headers={"Authorization": "Bearer kc_wrong"}).status_code == 401
    assert api.get("/v1/me", headers=_as(api, "curator")).json() == {"name": "curator-bot", "role": "curator"}
    from knowco.services import revoke_token

    revoke_token(db, "curator-token", "tester")
    assert _error(api.get("/v1/me", headers=_as(api, "curator")))["message"] == "the token is wrong, unknown or revoked"


def test_a_curator_reviews_but_may_not_do_an_admin_s_work(api):
    curator = _as(api, "curator")
    for method, path in [("post", "/v1/retrains"), ("get", "/v1/exports/csv"), ("post", "/v1/versions/1/activate")]:
        response = getattr(api, method)(path, headers=curator, **({"json": {}} if method == "post" else {}))
        error = _error(response)
        assert response.status_code == 403 and error["kind"] == "forbidden" and "ask an admin" in error["message"]
    response = api.post("/v1/imports", headers=curator, files={"file": ("kg.tsv", b"a\tr\tb\n")})
    assert response.status_code == 403


def test_the_queue_pages_and_a_verdict_decides_once_however_often_it_is_retried(api, db):
    curator = _as(api, "curator")
    first = api.get("/v1/queue", headers=curator, params={"limit": 2}).json()
    assert first["total"] == 3 and len(first["items"]) == 2 and first["next_offset"] == 2
    assert first["items"][0]["head"] == "aspirin" and first["items"][0]["confidence"] == 0.9
    rest = api.get("/v1/queue", headers=curator, params={"limit": 2, "offset": 2}).json()
    assert [s["head"] for s in rest["items"]] == ["metformin"] and rest["next_offset"] is None
    triple = first["items"][0]["id"]
    keyed = {**curator, "Idempotency-Key": "verdict-1"}
    said = api.post(f"/v1/suggestions/{triple}/accept", headers=keyed)
    again = api.post(f"/v1/suggestions/{triple}/accept", headers=keyed)
    assert said.status_code == again.status_code == 200 and said.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true" and "aspirin" in said.json()["said"]
    unkeyed = api.post(f"/v1/suggestions/{triple}/accept", headers=curator)
    assert unkeyed.status_code == 400 and _error(unkeyed)["kind"] == "bad_request"  # decided already: a 4xx
    other = api.post(f"/v1/suggestions/{first['items'][1]['id']}/reject", headers=keyed, json={"reason": "false"})
    assert other.status_code == 409 and "another request" in _error(other)["message"]
    assert len(queue(db, limit=10)) == 2
    assert api.post(f"/v1/suggestions/{first['items'][1]['id']}/reject", headers=curator,
                    json={"reason": "not a reason"}).status_code == 422
    assert api.post("/v1/undo", headers=curator).json()["undone"].startswith("accept")
    assert len(queue(db, limit=10)) == 3


def test_a_pipeline_paging_after_the_last_suggestion_misses_none_it_did_not_decide(api, db):
    """Paged by offset while deciding, a client skips as many suggestions as it decided; after a cursor, the next
    page starts where the last one ended, ties in confidence broken by id."""
    queued(db, [(drug, "treats", disease, confidence) for drug, disease, confidence in [
        ("aspirin", "gout", 0.9), ("ibuprofen", "asthma", 0.8), ("metformin", "gout", 0.8),
        ("insulin", "gout", 0.8), ("warfarin", "asthma", 0.5)]])
    curator = _as(api, "curator")
    order = [(s.head, s.tail) for s in queue(db, limit=10)]
    seen, after = [], None
    while True:
        page = api.get("/v1/queue", headers=curator, params={"limit": 2, **({"after": after} if after else {})}).json()
        seen += [(s["head"], s["tail"]) for s in page["items"]]
        # the pipeline decides the first of each page before it asks for the next (an offset would now skip one)
        assert api.post(f"/v1/suggestions/{page['items'][0]['id']}/reject", headers=curator,
                        json={"reason": "false"}).status_code == 200
        after = page["next_after"]
        if after is None:
            break
    assert seen == order and len(order) == 5 and len(queue(db, limit=10)) == 2
    assert api.get("/v1/queue", headers=curator, params={"offset": 0}).json()["next_after"] is None


def test_the_history_pages_back_from_its_last_event_however_many_are_logged_meanwhile(api, db):
    """Paged by offset while others work, a page shows again as many events as were logged since; before a
    page's last event, it goes on from there."""
    admin = _as(api, "admin")
    first = api.get("/v1/history", headers=admin, params={"limit": 3}).json()
    assert len(first["items"]) == 3 and first["next_before"] == first["items"][-1]["id"]
    for label in ("fever", "gout", "asthma"):  # logged between the two pages
        assert api.post("/v1/labels/triples", headers=admin, json={"head": "aspirin", "relation": "treats",
                                                                   "tail": label}).status_code == 201
    second = api.get("/v1/history", headers=admin, params={"limit": 3, "before": first["next_before"]}).json()
    assert [e["id"] for e in second["items"]] and max(e["id"] for e in second["items"]) < first["items"][-1]["id"]
    everything = [e["id"] for e in api.get("/v1/history", headers=admin, params={"limit": 500}).json()["items"]]
    assert everything[3 + 3:3 + 3 + 3] == [e["id"] for e in second["items"]]  # right after the first page's three
    assert api.get("/v1/history", headers=admin, params={"before": 0}).status_code == 422


@pytest.mark.parametrize("after", ["0.9", "x:1", "0.9:x", "1.5:3", "nan:3", "0.9:0", "0.5:-2"])
def test_a_cursor_that_no_page_gave_is_one_sentence(api, after):
    response = api.get("/v1/queue", headers=_as(api, "curator"), params={"after": after})
    assert response.status_code == 422 and "next_after" in _error(response)["message"]


def test_bad_input_is_one_sentence_and_nothing_is_half_written(api, db):
    admin = _as(api, "admin")
    before = api.get("/v1/labels", headers=admin).json()["total"]
    bad = api.post("/v1/imports", headers=admin, files={"file": ("kg.tsv", b"a\tr\tb\nonly two\tcolumns\n")})
    assert bad.status_code == 400 and _error(bad)["message"].startswith("kg.tsv:2: expected 3 fields")
    assert _error(api.get("/v1/exports/xml", headers=admin))["kind"] == "not_found"
    assert _error(api.post("/v1/labels/triples", headers=admin, json={"head": "aspirin"}))["kind"] == "invalid"
    unknown = api.post("/v1/retrains", headers=admin, json={"options": {"epochs_of_doom": 3}})
    assert unknown.status_code == 400 and "unknown training option 'epochs_of_doom'" in _error(unknown)["message"]
    assert api.get("/v1/labels", headers=admin).json()["total"] == before


def test_an_upload_over_the_limit_is_refused_before_anything_is_written(api, monkeypatch):
    import knowco.api.data as data

    monkeypatch.setattr(data, "MAX_UPLOAD_BYTES", 10)
    response = api.post("/v1/imports", headers=_as(api, "admin"), files={"file": ("kg.tsv", b"a\tr\tb\n" * 10)})
    assert response.status_code == 413 and _error(response)["kind"] == "too_large"


def test_labels_imports_and_a_streamed_export_round_trip(api, db):
    admin = _as(api, "admin")
    made = api.post("/v1/labels/triples", headers=admin,
                    json={"head": "aspirin", "relation": "treats", "tail": "fever", "holds": True})
    assert made.status_code == 201
    label = made.json()["id"]
    listed = api.get("/v1/labels", headers=admin, params={"relation": "treats", "limit": 500}).json()
    assert any(row["id"] == label and row["holds"] for row in listed["items"])
    assert api.patch("/v1/labels", headers=admin, json={"edits": [{"example_id": label, "holds": False}]}).json() == \
        {"edited": 1}
    added = api.post("/v1/imports", headers=admin, files={"file": ("more.tsv", b"zinc\ttreats\tcold\n")}).json()
    assert "added" in added["summary"] and added["created"]["triples"] == 1
    document = api.post("/v1/documents", headers=admin, files={"file": ("note.txt", b"Zinc treats colds.\n")})
    assert document.json() == {"added": 1, "already_present": 0}
    export = api.get("/v1/exports/csv", headers=admin)
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert "zinc,treats,cold" in export.text.replace('"', "")
    turtle = api.get("/v1/exports/turtle", headers=admin, params={"include_suggested": True})
    assert turtle.status_code == 200 and "@prefix" in turtle.text


def test_a_retrain_is_started_followed_and_cancelled_by_an_admin(api, monkeypatch):
    import knowco.jobs

    monkeypatch.setattr(knowco.jobs, "spawn_worker", lambda database, run: None)  # no worker process in a test
    admin = _as(api, "admin")
    started = api.post("/v1/retrains", headers=admin, json={"options": {"stage1_epochs": 1, "stage2_epochs": 1}})
    assert started.status_code == 202 and started.json()["status"] == "queued"
    run = started.json()["id"]
    assert api.get("/v1/retrains/current", headers=admin).json()["id"] == run
    assert api.post("/v1/retrains", headers=admin, json={}).status_code == 409  # one at a time
    assert api.post(f"/v1/retrains/{run}/cancel", headers=admin).json() == {"cancel_requested": True}
    assert api.get(f"/v1/retrains/{run}", headers=admin).json()["status"] == "cancelled"
    assert _error(api.get("/v1/retrains/999", headers=admin))["kind"] == "not_found"
    assert api.get("/v1/versions", headers=_as(api, "curator")).status_code == 200


def test_a_spot_check_through_the_api(api):
    curator = _as(api, "curator")
    check = api.post("/v1/spot-checks", headers=curator, json={"relation": "treats", "sample_size": 3}).json()
    assert check["size"] == 3 and len(check["sample"]) == 3 and check["statement"].startswith("nothing is left")
    assert api.get(f"/v1/spot-checks/{check['id']}", headers=curator).json()["id"] == check["id"]


def test_login_gives_a_token_and_too_many_failures_answer_429_with_retry_after(api, tmp_path, monkeypatch):
    from knowco.accounts import add_account
    from knowco.settings import ACCOUNTS_ENV

    accounts = tmp_path / "accounts.json"
    monkeypatch.setenv(ACCOUNTS_ENV, str(accounts))
    add_account("ann", "curator", "correct horse", accounts)
    token = api.post("/v1/login", json={"name": "ann", "password": "correct horse"}).json()
    assert token["role"] == "curator" and token["token"].startswith("kc_")
    assert api.get("/v1/me", headers={"Authorization": f"Bearer {token['token']}"}).json()["name"] == "ann"
    for _ in range(5):
        assert api.post("/v1/login", json={"name": "ann", "password": "guess"}).status_code == 401
    refused = api.post("/v1/login", json={"name": "ann", "password": "correct horse"})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert _error(refused)["kind"] == "too_many_attempts"


def test_an_unexpected_error_is_a_500_naming_its_id(api, monkeypatch):
    import knowco.api.review as review

    monkeypatch.setattr(review, "queue", lambda *a, **k: 1 / 0)
    error = _error(api.get("/v1/queue", headers=_as(api, "curator")))
    assert error["kind"] == "internal" and len(error["id"]) == 8 and error["id"] in error["message"]


def test_the_committed_schema_is_the_served_one(api):
    served = api.get("/v1/openapi.json").json()
    assert json.loads(SCHEMA.read_text(encoding="utf-8")) == served, (
        "the API changed: regenerate docs/openapi.json with `python -m knowco.api.schema`")


def test_a_key_replays_only_the_same_request_and_never_one_still_under_way(api, db):
    from knowco.services import reserve_key

    curator = _as(api, "curator")
    ids = [s["id"] for s in api.get("/v1/queue", headers=curator).json()["items"]]
    keyed = {**curator, "Idempotency-Key": "bulk-1"}
    assert api.post("/v1/suggestions/bulk-accept", headers=keyed, json={"min_confidence": 0.95}).json() == \
        {"accepted": 0}
    other_body = api.post("/v1/suggestions/bulk-accept", headers=keyed, json={"min_confidence": 0.1})
    assert other_body.status_code == 409 and "another request" in _error(other_body)["message"]
    assert len(queue(db, limit=10)) == 3  # the second body was not decided under the first one's answer
    reserve_key(db, "held", "curator-bot", "POST /v1/suggestions/1/accept x")  # held by another request
    held = api.post(f"/v1/suggestions/{ids[0]}/accept", headers={**curator, "Idempotency-Key": "held"})
    assert held.status_code == 409  # another request's key: never decided under it
    undo = {**curator, "Idempotency-Key": "undo-1"}
    api.post(f"/v1/suggestions/{ids[0]}/accept", headers=curator)
    api.post(f"/v1/suggestions/{ids[1]}/accept", headers=curator)
    first, again = api.post("/v1/undo", headers=undo).json(), api.post("/v1/undo", headers=undo).json()
    assert first == again and len(queue(db, limit=10)) == 2  # a retried undo takes back one verdict, not two


def test_a_busy_database_answers_503_and_a_retried_verdict_then_decides(api, db, monkeypatch):
    """A storage fault is the server's condition, not the caller's error: 503 with Retry-After, and a verdict's
    idempotency key is not kept with it (a day of "try again" replayed to every retry)."""
    import knowco.api.review as review
    import knowco.tokens as tokens
    from knowco.services import StorageError

    busy = "the database is busy with another writer: try again in a moment; nothing was written"

    def refuse_last_used(*_args, **_kwargs):
        raise StorageError(busy)

    monkeypatch.setattr(tokens.api_access, "mark_used", refuse_last_used)
    curator = _as(api, "curator")  # its first call writes "last used": a busy database must not refuse the call
    first_id = api.get("/v1/queue", headers=curator).json()["items"][0]["id"]
    accept = review.accept

    def busy_accept(*_args, **_kwargs):
        raise StorageError(busy)

    monkeypatch.setattr(review, "accept", busy_accept)
    keyed = {**curator, "Idempotency-Key": "busy-1"}
    refused = api.post(f"/v1/suggestions/{first_id}/accept", headers=keyed)
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "1"
    assert _error(refused) == {"message": busy, "kind": "unavailable", "id": None}
    monkeypatch.setattr(review, "accept", accept)
    again = api.post(f"/v1/suggestions/{first_id}/accept", headers=keyed)
    assert again.status_code == 200 and "Idempotent-Replayed" not in again.headers
    assert first_id not in [s.id for s in queue(db, limit=10)]


def test_an_anonymous_caller_is_refused_before_its_body_is_read(api):
    big = api.post("/v1/imports", headers={"Content-Length": str(10**12)}, content=b"")
    assert big.status_code == 413 and _error(big)["kind"] == "too_large"
    assert api.post("/v1/labels/triples", json={"head": "x" * 100}).status_code == 401


def test_a_login_token_expires_and_a_client_can_log_out(api, db):
    from datetime import timedelta

    expired = add_token(db, "old-login", Actor("ann", "curator"), "ann", lasts=timedelta(seconds=-1)).secret
    assert api.get("/v1/me", headers={"Authorization": f"Bearer {expired}"}).status_code == 401
    curator = _as(api, "curator")
    assert api.delete("/v1/tokens/current", headers=curator).json() == {"revoked": True}
    assert api.get("/v1/me", headers=curator).status_code == 401


def test_a_client_that_disconnects_mid_upload_leaves_nothing_half_written(sqlite_db, tmp_path):
    """A real server (`serve-api`): an upload cut off halfway imports nothing, and the next one is whole."""
    import socket
    import subprocess
    import sys
    import time

    import httpx

    from knowco.services import statistics

    secret = add_token(sqlite_db, "uploader", Actor("up", "admin"), "tester").secret
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "knowco", "--db", sqlite_db.url, "serve-api", "--port",
                               str(port), "--workers", "1"], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        boundary = "knowcoboundary"
        rows = "".join(f"cut_{i}\trelated_to\tcut_{i + 1}\n" for i in range(5000)).encode()
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"kg.tsv\"\r\n"
                "Content-Type: text/tab-separated-values\r\n\r\n").encode() + rows + f"\r\n--{boundary}--\r\n".encode()
        head = (f"POST /v1/imports HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {secret}\r\n"
                f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {len(body)}\r\n\r\n")
        with socket.create_connection(("127.0.0.1", port)) as cut_off:
            cut_off.sendall(head.encode() + body[: len(body) // 2])
        time.sleep(1.0)
        whole = httpx.post(f"http://127.0.0.1:{port}/v1/imports", headers={"Authorization": f"Bearer {secret}"},
                           files={"file": ("small.tsv", b"a\trelated_to\tb\nb\trelated_to\tc\n")}, timeout=60)
        assert whole.status_code == 200, whole.text
    finally:
        server.terminate()
        server.wait(30)
    assert statistics(sqlite_db).triples["accepted"] == 2 and statistics(sqlite_db).entities == 3


def test_two_token_adds_of_one_name_at_once_make_one_live_token(db, monkeypatch):
    """Both calls pass the look-up before either inserts (simulated by a look-up that finds nothing): the
    database's unique index on live names refuses the second, in words; a revoked name can be used again."""
    import knowco.tokens
    from knowco.services import TokenError, list_tokens, revoke_token

    add_token(db, "nightly", Actor("bot", "admin"), "tester")
    monkeypatch.setattr(knowco.tokens.api_access, "live_token_named", lambda session, name: None)
    with pytest.raises(TokenError, match="a token named nightly exists"):
        add_token(db, "nightly", Actor("bot", "admin"), "tester")
    monkeypatch.undo()
    revoke_token(db, "nightly", "tester")
    add_token(db, "nightly", Actor("bot", "curator"), "tester")
    live = [row for row in list_tokens(db) if row.name == "nightly" and row.revoked_at is None]
    assert [row.role for row in live] == ["curator"]
