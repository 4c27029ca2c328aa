"""The KG-BERT / PromptKG directory layout (`../shared/data/umls`): split TSVs plus id→text files.

`entity2type.txt` (id, type) is KnowCo's own optional addition, used by the bundled demo KG.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

from storage.importers.records import ImportBatch, TripleRecord
from storage.importers.text import numbered_lines, read_text
from storage.naming import readable_label

SPLITS = ("train.tsv", "dev.tsv", "valid.tsv", "test.tsv")
TEXT_FILES = {
    "entity2text.txt": ("entity", "label"),
    "entity2textlong.txt": ("entity", "description"),
    "entity2type.txt": ("entity", "type"),
    "relation2text.txt": ("relation", "label"),
}


def is_kgdir(path: Path) -> bool:
    return path.is_dir() and any((path / split).is_file() for split in SPLITS)


def _fields(batch: ImportBatch, file: Path, count: int) -> Iterator[tuple[int, list[str]]]:
    """(line, fields) for each line of a tab-separated file; the last field may itself hold tabs."""
    batch.reading = str(file)
    for line, content in numbered_lines(read_text(file)):
        fields = content.split("\t", count - 1) if count > 1 else [content.strip()]
        if len(fields) != count:
            raise batch.fail(line, f"expected {count} tab-separated fields, found {len(fields)}")
        yield line, fields


def _side_file(batch: ImportBatch, file: Path) -> None:
    kind, attribute = TEXT_FILES[file.name]
    add = batch.entity if kind == "entity" else batch.relation
    for line, (name, value) in _fields(batch, file, 2):
        add(name, line, **{attribute: value.strip()})


def parse_side_file(path: Path) -> ImportBatch:
    """One of a KG directory's text files on its own (`entity2type.txt`, `relation2text.txt`, …): the kinds,
    names or descriptions of entities and relations, which an upload of one file at a time brings in after the
    triples."""
    batch = ImportBatch(path=str(path), format="kgdir")
    _side_file(batch, path)
    batch.reading = None
    return batch


def parse_kgdir(path: Path) -> ImportBatch:
    batch = ImportBatch(path=str(path), format="kgdir")
    if (path / "entities.txt").is_file():
        for line, (name,) in _fields(batch, path / "entities.txt", 1):
            batch.entity(name, line)
    if (path / "relations.txt").is_file():
        for line, (name,) in _fields(batch, path / "relations.txt", 1):
            batch.relation(name, line)
    for file_name in TEXT_FILES:
        if (path / file_name).is_file():
            _side_file(batch, path / file_name)
    for split in SPLITS:
        if (path / split).is_file():
            for line, fields in _fields(batch, path / split, 3):
                if "\t" in fields[2]:
                    raise batch.fail(line, f"expected 3 tab-separated fields, found {len(fields[2].split(chr(9))) + 2}")
                batch.triple(TripleRecord(*fields), line)
    batch.reading = None
    for record in batch.relations.values():
        if not record.label:
            record.label = readable_label(record.name)
    return batch
