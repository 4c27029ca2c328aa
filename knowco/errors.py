"""Two kinds of failure. A curator error is the curator's to fix (a label that already exists, a file that does
not parse, a role that may not do this): one sentence, no traceback. Anything else is a bug: it is logged with
its traceback under a short id, and the curator reads one sentence naming that id, so the log entry can be
found. A bare `ValueError` is a bug here, never a curator error.
"""
from __future__ import annotations

import logging
import uuid

from storage.corpus import DocumentError
from storage.database import StorageError
from storage.importers import ImportFailed
from storage.labels import LabelError
from storage.review import ReviewError
from storage.team import TeamError

log = logging.getLogger("knowco")


class CuratorError(Exception):
    """Raised by the service layer for what the acting curator can fix; the message is the sentence to show."""


class PermissionDenied(CuratorError):
    """The acting curator's role may not do this."""


class JobError(CuratorError):
    """A retrain that cannot be started or changed: one sentence saying why."""


class NoActiveModel(CuratorError):
    """Suggesting needs a trained model."""


class OptionsError(CuratorError):
    """A setting or training option that cannot be used (an unknown key, an impossible value)."""


#: every error whose message is meant for the curator, from this layer and from storage
CURATOR_ERRORS: tuple[type[Exception], ...] = (CuratorError, DocumentError, ImportFailed, LabelError, ReviewError,
                                               TeamError, StorageError)


def report_internal(exc: BaseException, doing: str) -> str:
    """Log `exc` with its traceback under a new id; return the one sentence a curator is shown."""
    incident = uuid.uuid4().hex[:8]
    log.error("[%s] unexpected error while trying to %s", incident, doing, exc_info=exc)
    return (f"an unexpected {type(exc).__name__} happened (error id {incident}; the details are in the server "
            "log under that id)")
