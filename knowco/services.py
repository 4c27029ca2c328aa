"""The one door the app, the command line and `run_app.py` go through (tests/test_layering.py holds them to it):
each use case is a function of the modules imported here, opening one unit of work, checking the acting
curator's role and returning plain dataclasses. Storage and the engine sit behind it.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from engine.presets import DEFAULT_BACKBONE, PRESETS
from storage.corpus import SentenceRow
from storage.database import Database, StorageError, open_database
from storage.exporters import EXPORT_FORMATS
from storage.graph_query import Subgraph
from storage.history import HIDDEN, HistoryRow, action_words
from storage.importers import FORMATS as IMPORT_FORMATS
from storage.labels import EntityInfo, ExampleEdit, ExampleRow, RelationInfo
from storage.rdf_vocab import DEFAULT_BASE
from storage.repair import Footprint, MergePreview
from storage.models import REJECT_REASONS
from storage.review import Evidence, Suggestion, VerdictBin
from storage.runs import Run
from storage.stats import KgStats

from knowco.access import ROLES, Actor
from knowco.accounts import accounts_path, add_account, authenticate, has_accounts
from knowco.idempotency import UNDER_WAY, keep_answer, release_key, reserve_key
from knowco.throttling import TooManyAttempts, log_in
from knowco.tokens import (NewToken, TokenError, actor_for_token, add_token, list_tokens, revoke_secret,
                           revoke_token)
from knowco.browsing import busiest_entity, history, history_choices, subgraph
from knowco.demo import seed_demo, seed_demo_if_empty
from knowco.errors import CURATOR_ERRORS, CuratorError, JobError, OptionsError, PermissionDenied, report_internal
from knowco.jobs import activate, active_run, cancel, current_job, get_run, job_words, list_runs, start_training
from knowco.labelling import (add_sentence, add_sentence_label, add_triple_label, edit_labels, find_sentences,
                              get_entity, get_sentence, import_triple_labels, list_examples, list_relations,
                              search_entities)
from knowco.maintenance import backup, restore
from knowco.repairing import (delete_entity, delete_relation, entity_footprint, mark_relation, merge_entities,
                              merge_relations, preview_merge, relation_footprint, rename_relation,
                              heads_with_several_tails)
from knowco.mentions import Mention, detect_mentions
from knowco.metrics import MIN_CALIBRATION_ITEMS, MIN_TRUSTED_ITEMS, RunMetrics, metrics_of
from knowco.plain_words import checked_items, found_words, quality_words, times_in_ten
from knowco.spot_checks import SAMPLE_SIZE as SPOT_CHECK_SAMPLE
from knowco.standing_rules import StandingRule, drop_standing_rule, make_standing_rule, standing_rules
from knowco.spot_checks import (SpotCheckView, accept_rest, open_spot_checks, set_wanted_width, spot_check,
                                start_spot_check, wanted_width)
from knowco.options import TrainOptions, recorded_policy
from knowco.worker import retrain_worker
from knowco.overview import Overview, overview, statistics, unlearned
from knowco.relearning import last_rerank, patterns_now, rerank_queue
from knowco.reviewing import (accept, accept_corrected, bulk_accept, evidence, queue, queue_size, reject, retract,
                              sentences_mentioning, undo_last, verdicts_by_confidence)
from knowco.settings import BACKGROUND_RERANK_ENV, DATABASE_ENV, EXAMPLES_PER_RELATION, Settings, settings
from knowco.team import (DOES_NOT_HOLD, HOLDS, MAX_OVERLAP, NO_RELATION, CuratorCount, DisputedLabel, LabelOutcome,
                         LabelTask, RelationAgreement, adjudicate, adjudicate_label, agreement, answer_label_task,
                         curator_counts, disputed, disputed_labels, label_agreement, label_overlap,
                         label_tasks_waiting, my_next_items, review_overlap, set_label_overlap, set_review_overlap)
from knowco.transfer import (EXPORT_CHOICES, MAX_UPLOAD_BYTES, UPLOAD_TYPES, UploadPreview, export_bytes, export_file,
                             export_labels_bytes, import_document, import_file, import_upload, preview_upload)

if TYPE_CHECKING:  # loaded on first use, below
    from knowco.graph_view import render_html
    from knowco.suggest import SuggestReport, suggest
    from knowco.training_job import train_in_foreground

#: what the Label page shows for a sentence that states no relation
NO_RELATION_CHOICE = NO_RELATION

#: use cases whose modules load torch, PyKEEN or the graph drawing: imported when first used (PEP 562), so a
#: command line that only reads or imports (or asks for --help) starts in a fraction of a second
_ON_FIRST_USE = {"SuggestReport": "knowco.suggest", "suggest": "knowco.suggest",
                 "train_in_foreground": "knowco.training_job", "render_html": "knowco.graph_view"}


def __getattr__(name: str):
    if name not in _ON_FIRST_USE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_ON_FIRST_USE[name]), name)
    globals()[name] = value
    return value

__all__ = [
    # settings, access, errors
    "Settings", "settings", "BACKGROUND_RERANK_ENV", "DATABASE_ENV", "EXAMPLES_PER_RELATION", "ROLES", "Actor", "CURATOR_ERRORS", "CuratorError", "JobError", "OptionsError",
    "PermissionDenied", "report_internal", "accounts_path", "add_account", "authenticate", "has_accounts",
    "TooManyAttempts", "log_in", "NewToken", "TokenError", "actor_for_token", "add_token", "list_tokens",
    "revoke_secret", "revoke_token", "UNDER_WAY", "keep_answer", "release_key", "reserve_key",
    # the database
    "Database", "StorageError", "open_database", "backup", "restore", "seed_demo", "seed_demo_if_empty",
    # reading the KG
    "KgStats", "Overview", "overview", "statistics", "unlearned", "Subgraph", "subgraph", "busiest_entity", "render_html", "HistoryRow", "HIDDEN", "action_words", "history",
    "history_choices", "EntityInfo", "RelationInfo", "get_entity", "list_relations", "search_entities",
    # labels
    "NO_RELATION_CHOICE", "ExampleEdit", "ExampleRow", "SentenceRow", "Mention", "add_sentence", "add_sentence_label",
    "add_triple_label", "detect_mentions", "edit_labels", "find_sentences", "get_sentence", "import_triple_labels",
    "list_examples",
    # training and suggesting
    "DEFAULT_BACKBONE", "PRESETS", "Run", "RunMetrics", "MIN_CALIBRATION_ITEMS", "MIN_TRUSTED_ITEMS", "metrics_of", "TrainOptions", "recorded_policy", "SuggestReport", "activate", "active_run", "cancel",
    "current_job", "job_words", "retrain_worker", "get_run", "list_runs", "start_training", "suggest", "train_in_foreground", "found_words",
    "checked_items", "quality_words", "times_in_ten",
    # review
    "Evidence", "Suggestion", "REJECT_REASONS", "accept", "accept_corrected", "bulk_accept", "evidence", "queue", "queue_size", "reject", "retract",
    "sentences_mentioning", "undo_last", "VerdictBin", "verdicts_by_confidence", "last_rerank", "patterns_now", "rerank_queue",
    "SPOT_CHECK_SAMPLE", "SpotCheckView", "accept_rest", "open_spot_checks", "spot_check", "start_spot_check",
    "set_wanted_width", "wanted_width",
    "StandingRule", "drop_standing_rule", "make_standing_rule", "standing_rules",
    # curating as a team
    "MAX_OVERLAP", "CuratorCount", "RelationAgreement", "adjudicate", "agreement", "curator_counts", "disputed", "my_next_items",
    "review_overlap", "set_review_overlap", "HOLDS", "DOES_NOT_HOLD", "LabelTask", "LabelOutcome", "DisputedLabel",
    "label_overlap", "set_label_overlap", "label_tasks_waiting", "answer_label_task", "disputed_labels",
    "adjudicate_label", "label_agreement",
    # repairing the vocabulary
    "Footprint", "entity_footprint", "relation_footprint", "delete_entity", "delete_relation", "rename_relation",
    "merge_entities", "merge_relations", "mark_relation", "MergePreview", "preview_merge", "heads_with_several_tails",
    # files
    "DEFAULT_BASE", "EXPORT_CHOICES", "MAX_UPLOAD_BYTES", "EXPORT_FORMATS", "IMPORT_FORMATS", "UPLOAD_TYPES", "UploadPreview",
    "export_bytes", "export_file", "export_labels_bytes", "import_document", "import_file", "import_upload", "preview_upload",
]
