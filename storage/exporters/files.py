"""Writing an output file so that a reader never sees half of it."""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def atomic_output(out: Path) -> Iterator[Path]:
    """A temporary path beside `out`, renamed over it only if the block finishes without error; the file gets
    the permissions a plain `open` would give it (mkstemp's are owner-only, 0600)."""
    out = Path(out)
    handle, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(handle)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()


def _umask() -> int:
    """The process's umask (reading it means setting it; it is put back at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
