"""A Python client of KnowCo's HTTP API (`python -m knowco serve-api`), for pipelines and notebooks:

    from knowco.client import KnowCo
    kc = KnowCo("http://127.0.0.1:8600", token="kc_...")
    kc.import_file("kg.tsv")
    kc.add_label("aspirin", "treats", "headache")
    run = kc.retrain(wait=True)
    for suggestion in kc.queue(limit=20)["items"]:
        kc.accept(suggestion["id"])
    open("kg.ttl", "wb").write(kc.export("turtle"))

An answer other than 2xx raises `ApiError` with the server's sentence; verdicts carry an idempotency key, so
the client's own retries never decide twice.
"""
from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any, Optional

import httpx

FINISHED = ("succeeded", "failed", "cancelled")


class ApiError(Exception):
    """The API's answer to a call it refused: its HTTP status, kind and sentence."""

    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(f"{status} {kind}: {message}")
        self.status, self.kind, self.message = status, kind, message


class KnowCo:
    def __init__(self, url: str, token: Optional[str] = None, *, timeout: float = 60.0, retries: int = 2,
                 transport: Optional[httpx.BaseTransport] = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=url.rstrip("/") + "/v1", headers=headers, timeout=timeout,
                                 transport=transport)
        self.retries = retries

    @classmethod
    def login(cls, url: str, name: str, password: str, **kwargs) -> "KnowCo":
        """A client with a new token for this account (the API throttles failed tries)."""
        anonymous = cls(url, **kwargs)
        token = anonymous._call("POST", "/login", json={"name": name, "password": password})["token"]
        anonymous.http.close()
        return cls(url, token, **kwargs)

    def _call(self, method: str, path: str, *, raw: bool = False, idempotent: bool = False, **kwargs) -> Any:
        headers = {"Idempotency-Key": uuid.uuid4().hex} if idempotent else {}
        for attempt in range(self.retries + 1):
            try:
                response = self.http.request(method, path, headers=headers, **kwargs)
                break
            except httpx.TransportError:
                # a verdict is retried with its key (the server answers as it did); other writes are not
                if attempt == self.retries or not (idempotent or method == "GET"):
                    raise
                time.sleep(0.5 * (attempt + 1))
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
            except (ValueError, KeyError, TypeError):
                error = {"kind": "http", "message": response.text[:500]}
            raise ApiError(response.status_code, error["kind"], error["message"])
        return response.content if raw else response.json()

    def me(self) -> dict:
        return self._call("GET", "/me")

    def import_file(self, path: str | Path, fmt: str = "auto") -> dict:
        path = Path(path)
        with path.open("rb") as handle:
            return self._call("POST", "/imports", files={"file": (path.name, handle)}, data={"format": fmt})

    def add_document(self, path: str | Path) -> dict:
        path = Path(path)
        with path.open("rb") as handle:
            return self._call("POST", "/documents", files={"file": (path.name, handle)})

    def add_label(self, head: str, relation: str, tail: str, holds: bool = True) -> int:
        return self._call("POST", "/labels/triples",
                          json={"head": head, "relation": relation, "tail": tail, "holds": holds})["id"]

    def labels(self, relation: Optional[str] = None, offset: int = 0, limit: int = 50) -> dict:
        return self._call("GET", "/labels", params={k: v for k, v in
                                                    {"relation": relation, "offset": offset, "limit": limit}.items()
                                                    if v is not None})

    def retrain(self, options: Optional[dict] = None, *, wait: bool = False, poll: float = 2.0) -> dict:
        """Queue a retrain; with `wait`, return it once it has finished (succeeded, failed or cancelled)."""
        run = self._call("POST", "/retrains", json={"options": options or {}})
        while wait and run["status"] not in FINISHED:
            time.sleep(poll)
            run = self._call("GET", f"/retrains/{run['id']}")
        return run

    def cancel(self, run_id: int) -> bool:
        return self._call("POST", f"/retrains/{run_id}/cancel")["cancel_requested"]

    def versions(self) -> list[dict]:
        return self._call("GET", "/versions")

    def activate(self, run_id: int) -> dict:
        return self._call("POST", f"/versions/{run_id}/activate")

    def queue(self, relation: Optional[str] = None, min_confidence: float = 0.0, offset: int = 0,
              limit: int = 50, after: Optional[str] = None) -> dict:
        """One page of the queue; `after` a page's `next_after` for the page that follows it, whatever was decided
        meanwhile."""
        params = {"min_confidence": min_confidence, "offset": offset, "limit": limit,
                  **({"after": after} if after else {})}
        return self._call("GET", "/queue", params={**params, **({"relation": relation} if relation else {})})

    def my_next_items(self, limit: int = 10) -> list[dict]:
        return self._call("GET", "/queue/mine", params={"limit": limit})

    def accept(self, suggestion_id: int, comment: str = "") -> str:
        return self._call("POST", f"/suggestions/{suggestion_id}/accept", json={"comment": comment},
                          idempotent=True)["said"]

    def reject(self, suggestion_id: int, reason: str = "false", comment: str = "") -> str:
        return self._call("POST", f"/suggestions/{suggestion_id}/reject", json={"reason": reason, "comment": comment},
                          idempotent=True)["said"]

    def bulk_accept(self, min_confidence: float, relation: Optional[str] = None) -> int:
        return self._call("POST", "/suggestions/bulk-accept", json={"min_confidence": min_confidence,
                                                                     "relation": relation}, idempotent=True)["accepted"]

    def undo(self) -> Optional[str]:
        return self._call("POST", "/undo")["undone"]

    def history(self, offset: int = 0, limit: int = 50, before: Optional[int] = None) -> dict:
        """One page of the audit log, newest first; `before` a page's `next_before` for the page of older events."""
        return self._call("GET", "/history", params={"offset": offset, "limit": limit,
                                                     **({"before": before} if before else {})})

    def export(self, fmt: str = "csv", *, include_suggested: bool = False) -> bytes:
        return self._call("GET", f"/exports/{fmt}", params={"include_suggested": include_suggested}, raw=True)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> "KnowCo":
        return self

    def __exit__(self, *_) -> None:
        self.close()
