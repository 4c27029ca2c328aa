"""Retrains and model versions over HTTP: start one (with training options, or the app's defaults), follow its
progress, cancel it; list the versions and make one active. Only an admin may start, cancel or activate."""
from __future__ import annotations

from typing import Any, Optional

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from knowco.api.doors import ApiError, RowId, caller, database_of, plain
from knowco.services import (Actor, JobError, OptionsError, TrainOptions, activate, cancel, current_job, get_run, list_runs,
                             settings, start_training)

router = APIRouter(prefix="/v1", tags=["models"])


class RetrainAsk(BaseModel):
    #: training options by name (`knowco.options.TrainOptions`); those left out take the app's defaults
    options: dict[str, Any] = Field(default_factory=dict)


def _options(asked: dict[str, Any]) -> TrainOptions:
    chosen = {"backbone": settings().model, **asked} if settings().model else dict(asked)
    try:
        options = TrainOptions.from_dict(chosen)
        options.check()
    except (TypeError, ValueError) as error:
        raise OptionsError(f"unusable training options: {error}") from None
    return options


@router.post("/retrains", status_code=202, summary="queue a retrain; a worker process takes it")
def post_retrain(body: RetrainAsk, request: Request, actor: Actor = Depends(caller)) -> dict:
    return plain(start_training(database_of(request), actor, _options(body.options)))


@router.get("/retrains/current", summary="the retrain queued or under way, or null")
def get_current(request: Request, actor: Actor = Depends(caller)) -> Optional[dict]:
    job = current_job(database_of(request))
    return plain(job) if job is not None else None


@router.get("/retrains/{run_id}", summary="one retrain (a version once it succeeded): status, progress, message")
def get_retrain(run_id: RowId, request: Request, actor: Actor = Depends(caller)) -> dict:
    run = get_run(database_of(request), run_id)
    if run is None:
        raise ApiError(404, f"there is no retrain {run_id}", "not_found")
    return plain(run)


@router.post("/retrains/{run_id}/cancel", summary="ask the worker to stop at its next step")
def post_cancel(run_id: RowId, request: Request, actor: Actor = Depends(caller)) -> dict:
    requested = cancel(database_of(request), actor, run_id)  # the role first: a curator learns nothing of ids
    if not requested and get_run(database_of(request), run_id) is None:
        raise ApiError(404, f"there is no retrain {run_id}", "not_found")
    return {"cancel_requested": requested}


@router.get("/versions", summary="every model version, newest first")
def get_versions(request: Request, actor: Actor = Depends(caller)) -> list[dict]:
    return plain(list_runs(database_of(request)))


@router.post("/versions/{run_id}/activate", summary="make a version the one that scores and suggests")
def post_activate(run_id: RowId, request: Request, actor: Actor = Depends(caller)) -> dict:
    try:
        activate(database_of(request), actor, run_id)  # the role first, as above
    except JobError:
        if get_run(database_of(request), run_id) is None:
            raise ApiError(404, f"there is no version {run_id}", "not_found") from None
        raise
    return plain(get_run(database_of(request), run_id))
