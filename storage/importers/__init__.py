"""Importing files into the KG: detect the format, parse it completely, then write it in one transaction."""
from __future__ import annotations

from pathlib import Path

from storage.importers.jsonl import jsonl_files, looks_like_jsonl, parse_jsonl
from storage.importers.kgdir import TEXT_FILES, is_kgdir, parse_kgdir, parse_side_file
from storage.importers.rdf import RDF_FORMATS, parse_rdf
from storage.importers.records import ImportBatch, ImportFailed
from storage.importers.tabular import parse_tabular
from storage.importers.writer import ImportReport, write_batch

FORMATS = ("auto", "kgdir", "tsv", "csv", "rdf", "jsonl")

__all__ = ["FORMATS", "ImportBatch", "ImportFailed", "ImportReport", "detect_format", "parse_path", "write_batch"]


def detect_format(path: Path) -> str:
    if path.is_file() and path.name in TEXT_FILES:
        return "kgdir"  # one of a KG directory's name, description or kind files, uploaded on its own
    if path.is_dir():
        if is_kgdir(path):
            return "kgdir"
        if jsonl_files(path):
            return "jsonl"
        raise ImportFailed(str(path), None, "a directory must hold train/dev/test.tsv (KG) or train/val/test JSONL files")
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    if suffix in RDF_FORMATS:
        return "rdf"
    if suffix in (".tsv", ".txt", ""):
        return "jsonl" if looks_like_jsonl(path) else "tsv"
    raise ImportFailed(str(path), None, f"unknown file type {suffix!r}: use .tsv, .csv, .ttl, .nt, .jsonld or .jsonl")


def parse_path(path: Path, fmt: str = "auto") -> ImportBatch:
    """Read and validate a file or directory completely, without touching any database."""
    if not path.exists():
        raise ImportFailed(str(path), None, "no such file or directory")
    if fmt not in FORMATS:
        raise ImportFailed(str(path), None, f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")
    fmt = detect_format(path) if fmt == "auto" else fmt
    if path.is_dir() and fmt not in ("kgdir", "jsonl"):
        raise ImportFailed(str(path), None, f"format {fmt} needs a file, not a directory")
    if fmt == "kgdir":
        if path.is_file() and path.name in TEXT_FILES:
            return parse_side_file(path)
        if not is_kgdir(path):
            raise ImportFailed(str(path), None, "not a KG directory: no train.tsv, dev.tsv or test.tsv in it")
        return parse_kgdir(path)
    if fmt == "jsonl":
        if not path.is_dir():
            return parse_jsonl(path)
        batch = ImportBatch(path=str(path), format="jsonl", document=path.name)
        for file in jsonl_files(path):
            parse_jsonl(file, batch)
        return batch
    if fmt == "rdf":
        return parse_rdf(path)
    return parse_tabular(path, "," if fmt == "csv" else "\t", fmt)
