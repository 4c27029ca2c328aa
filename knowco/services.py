"""The one door the app goes through: every read and write a page makes, so `app/` needs neither SQL nor torch
(tests/test_layering.py holds it to that). Storage's curation functions are re-exported as they are; the
orchestration that spans layers (jobs, suggest, transfers, the graph picture) lives in its own module.
"""
from __future__ import annotations

from engine.backbones import DEFAULT_BACKBONE, PRESETS
from storage.audit import default_user
from storage.corpus import DocumentError, SentenceRow, add_sentence, find_sentences, get_sentence, sentences_mentioning
from storage.database import Database, StorageError, open_database
from storage.graph_query import Subgraph, subgraph
from storage.history import HistoryRow, history, history_choices
from storage.importers import FORMATS as IMPORT_FORMATS, ImportFailed
from storage.labels import (
    EntityInfo,
    ExampleEdit,
    ExampleRow,
    LabelError,
    RelationInfo,
    add_sentence_example,
    add_triple_example,
    edit_examples,
    get_entity,
    list_examples,
    list_relations,
    search_entities,
)
from storage.review import (
    ReviewError,
    Suggestion,
    accept,
    accept_edited,
    bulk_accept,
    count_suggestions,
    evidence,
    reject,
    suggestions,
    undo_last,
)
from storage.runs import Run, activate, active_run, list_runs
from storage.text_split import tokenize

from knowco.accounts import Account, authenticate
from knowco.graph_view import render_html
from knowco.jobs import JobError, cancel, current_job, start_training
from knowco.mentions import Mention, detect_mentions
from knowco.options import TrainOptions
from knowco.overview import overview
from knowco.settings import login_required
from knowco.suggest import NoActiveModel, SuggestReport, suggest
from knowco.transfer import (
    EXPORT_CHOICES,
    UPLOAD_TYPES,
    UploadPreview,
    export_bytes,
    import_document,
    import_upload,
    preview_upload,
)

#: what the Label page shows for a sentence that states no relation
NO_RELATION_CHOICE = "(no relation)"

#: errors whose message is one sentence a curator can act on; anything else is a bug and says so
USER_ERRORS = (DocumentError, ImportFailed, JobError, LabelError, NoActiveModel, ReviewError, StorageError,
               ValueError)

__all__ = [name for name in dir() if not name.startswith("_") and name != "annotations"]
