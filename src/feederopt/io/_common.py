"""Helpers shared by the importers: file errors as typed problems."""

from __future__ import annotations

from pathlib import Path

from feederopt.errors import InputError, Problem, ProblemKind
from feederopt.network.container import Network


def unreadable(path: str | Path, reason: str, hint: str = "") -> InputError:
    """An :class:`InputError` for a file that exists but cannot be read."""
    return InputError(
        [
            Problem(
                ProblemKind.UNREADABLE_FILE,
                "file",
                f"cannot read '{path}': {reason}",
                ids=(str(path),),
                hint=hint or "check that the file is complete and in the format its name says",
            )
        ]
    )


def unknown_file_type(path: str | Path, known: str) -> InputError:
    return InputError(
        [
            Problem(
                ProblemKind.UNKNOWN_FILE_TYPE,
                "file",
                f"'{path}' is not a file type feederopt reads",
                ids=(str(path),),
                hint=f"give {known}",
            )
        ]
    )


def read_text(path: Path) -> str:
    """The text of a file; UTF-8, falling back to Latin-1 (older MATPOWER files)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise unreadable(path, exc.strerror or str(exc)) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def raise_with_validation(
    net: Network, problems: list[Problem], superseded: tuple[ProblemKind, ...] = ()
) -> None:
    """Raise the reader's own ``problems`` together with every problem that validation finds in
    what could be read (all problems at once); do nothing when the reader found none.

    Validation problems on a (component, field) that the reader reported already, and those of
    a kind in ``superseded`` (consequences of the reader's problems), are left out.
    """
    if not problems:
        return
    seen = {(p.component, p.field) for p in problems}
    more = [
        p for p in net.validate()
        if (p.component, p.field) not in seen and p.kind not in superseded
    ]
    raise InputError(sorted([*problems, *more], key=lambda p: p.is_error, reverse=True))
