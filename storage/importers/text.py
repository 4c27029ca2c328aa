"""Reading a text file as a user would expect: UTF-8 with or without BOM, any line ending."""
from __future__ import annotations

import re
from pathlib import Path

from storage.importers.records import ImportFailed


def read_text(path: Path) -> str:
    """The file's text, or an `ImportFailed` naming the line with the first byte that is not UTF-8."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFailed(str(path), None, f"cannot read the file: {exc.strerror or exc}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFailed(str(path), line, f"not valid UTF-8 (byte 0x{data[exc.start]:02x})") from exc


def numbered_lines(text: str):
    """(line number, line) pairs without line endings, skipping blank lines.

    Only LF and CRLF end a line: `str.splitlines` would also cut at form feeds and Unicode separators,
    which may sit inside a name and would shift every reported line number.
    """
    for number, line in enumerate(re.split(r"\r?\n", text), start=1):
        if line.strip():
            yield number, line
