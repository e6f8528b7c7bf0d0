"""The files an OpenDSS script reads, from its text: what ``Redirect``/``Compile`` run (and
what those read in turn), the data files of ``file=`` properties (a LoadShape's
``mult=(file=...)``) and ``BusCoords``/``LatLongCoords`` files, each relative to the folder of
the script that names it (OpenDSS runs a redirected script in its own folder). Used by
:mod:`feederopt.io.writing` so that no output overwrites a file the feeder reads. A text scan,
not OpenDSS: a reference built at run time (a ``var`` macro) is not seen."""

from __future__ import annotations

import re
from pathlib import Path

_WORD = r"""("[^"]+"|'[^']+'|\[[^\]]+\]|[^\s,)(]+)"""
_SCRIPT = re.compile(rf"^\s*(?:redirect|compile)\s+{_WORD}", re.I)
_COORDS = re.compile(rf"^\s*(?:buscoords|latlongcoords)\s+{_WORD}", re.I)
_FILE = re.compile(rf"\b(?:file|dblfile|sngfile)\s*=\s*{_WORD}", re.I)


def _clean(ref: str) -> str:
    return ref.strip().strip("\"'[]").strip()


def script_files(path: str | Path, _seen: set[Path] | None = None) -> list[Path]:
    """``path`` and every file it reads (module docstring), resolved; missing ones included
    (they would be read if they appeared)."""
    seen = _seen if _seen is not None else set()
    path = Path(path).resolve()
    if path in seen:
        return []
    seen.add(path)
    out = [path]
    if not path.is_file():
        return out
    for raw in path.read_text(errors="replace").splitlines():
        line = re.split(r"!|//", raw, maxsplit=1)[0]
        m = _SCRIPT.match(line)
        if m:
            out += script_files(path.parent / _clean(m.group(1)), seen)
            continue
        m = _COORDS.match(line)
        if m:
            out.append((path.parent / _clean(m.group(1))).resolve())
        out += [(path.parent / _clean(f.group(1))).resolve() for f in _FILE.finditer(line)]
    return out
