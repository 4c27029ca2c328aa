"""SemEval/KnowPrompt-style sentences: one JSON object a line with tokens, head and tail spans, relation.

Each line becomes a labelled sentence example; its two mentions become entities (named by their text) and
"Other"-like labels become "no relation". A directed label `R(e2,e1)` becomes the relation `R` with the second
mention as its head (`storage.naming.directed_label`), unless the caller keeps the labels as given (the RE
benchmark, whose 19 labels make the model read the direction from the sentence).
"""
from __future__ import annotations

import json
from pathlib import Path

from storage.importers.records import ImportBatch, SentenceExampleRecord
from storage.importers.text import numbered_lines, read_text
from storage.naming import directed_label, is_no_relation, readable_label

JSONL_SPLITS = ("train", "val", "dev", "valid", "test")


def looks_like_jsonl(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            for raw in handle:
                if raw.strip():
                    return raw.lstrip(b"\xef\xbb\xbf").lstrip().startswith(b"{")
    except OSError:
        return False
    return False


def jsonl_files(directory: Path) -> list[Path]:
    """The split files of a SemEval-like directory, in the usual order."""
    found = []
    for split in JSONL_SPLITS:
        for suffix in (".jsonl", ".json", ".txt"):
            file = directory / f"{split}{suffix}"
            if file.is_file() and looks_like_jsonl(file):
                found.append(file)
    return found


def _span(batch: ImportBatch, item: object, tokens: list[str], line: int, which: str) -> tuple[str, tuple[int, int]]:
    if not isinstance(item, dict) or not isinstance(item.get("pos"), list) or len(item["pos"]) != 2:
        raise batch.fail(line, f'"{which}" must be an object with "name" and "pos": [start, end]')
    start, end = item["pos"]
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(tokens)):
        raise batch.fail(line, f'"{which}" position {item["pos"]} is outside the {len(tokens)} tokens')
    name = item.get("name")
    if not isinstance(name, str):
        name = " ".join(tokens[start:end])
    return batch.check_name(name, f"{which} name", line), (start, end)


def _object(batch: ImportBatch, line: int, content: str) -> tuple[dict, list[str]]:
    """The line's JSON object and its tokens, or the line's one-sentence error."""
    try:
        item = json.loads(content)
    except json.JSONDecodeError as exc:
        raise batch.fail(line, f"not valid JSON: {exc.msg}") from exc
    if not isinstance(item, dict):
        raise batch.fail(line, "expected a JSON object")
    tokens = item.get("token")
    if not isinstance(tokens, list) or not tokens or not all(isinstance(t, str) for t in tokens):
        raise batch.fail(line, '"token" must be a non-empty list of strings')
    return item, tokens


def _example(batch: ImportBatch, line: int, content: str, directed_as_order: bool) -> SentenceExampleRecord:
    """One line's labelled sentence, its entities and relation registered in the batch."""
    item, tokens = _object(batch, line, content)
    head_name, head = _span(batch, item.get("h"), tokens, line, "h")
    tail_name, tail = _span(batch, item.get("t"), tokens, line, "t")
    label = item.get("relation")
    if not isinstance(label, str) or not label.strip():
        raise batch.fail(line, '"relation" must be a non-empty string')
    swapped = False
    if directed_as_order and not is_no_relation(label):
        label, swapped = directed_label(label)
    if swapped:
        (head_name, head), (tail_name, tail) = (tail_name, tail), (head_name, head)
    relation = None if is_no_relation(label) else batch.relation(label, line, label=readable_label(label)).name
    batch.entity(head_name, line)
    batch.entity(tail_name, line)
    return SentenceExampleRecord(tokens=tokens, head=head, tail=tail, head_name=head_name, tail_name=tail_name,
                                 relation=relation)


def parse_jsonl(path: Path, batch: ImportBatch | None = None, *, directed_as_order: bool = True) -> ImportBatch:
    batch = batch or ImportBatch(path=str(path), format="jsonl")
    batch.reading = str(path)
    batch.document = batch.document or path.name
    for line, content in numbered_lines(read_text(path)):
        batch.sentence_examples.append(_example(batch, line, content, directed_as_order))
    batch.reading = None
    if not batch.sentence_examples:
        raise batch.fail(None, "no sentences found (expected one JSON object a line)")
    return batch
