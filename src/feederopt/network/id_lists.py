"""The problems of a list of ids that the user gives (``--hold-closed``, ``--hold-open``,
``--uncertain-loads`` of solve, check and partition, ``--broken``, ``--dg-sites``,
``--uncertain-buses``, and ``--controls``' kinds): a list that names nothing and an id named
more than once, checked by :func:`id_list_problems` alone, for every such list alike; and how
the command line's comma-separated text of such a list is read (:func:`split_ids`), with its
empty entries refused, as a Python list's are (:func:`blank_entry_problems`: ``--hold-closed
a,,b`` and ``hold_closed=["a", "", "b"]`` are a missing id, not ``a,b``; before, the blank was
dropped in silence). The options are named by
:func:`~feederopt.errors.option_ref`, so that each caller reads its own spelling
(``hold_closed`` from Python, ``--hold-closed`` on the command line).

The ids that the network lacks are each list's own resolver's to find (the holds'
:func:`feederopt.problems.holds.resolve_holds`, a load id's
:func:`feederopt.io.scenarios.unknown_load_problem`, a broken line's
:meth:`feederopt.problems.resilience.ResilienceProblem.branch_index`, with the hints of
:mod:`feederopt.network.id_hints`); each command reports them with these problems, all at
once. Before, ``--hold-closed line:1,line:1,line:77`` named the repeated ``line:1`` and the
unknown ``line:77`` only on the next run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from feederopt.errors import Problem, ProblemKind, Severity, option_ref, shown_list


def split_ids(text: str) -> tuple[str, ...]:
    """The ids of a comma-separated list as the command line takes them: ``"a, b,c"`` ->
    ``("a", "b", "c")``, each without blanks at its ends. Empty entries are left out here;
    :func:`blank_entry_problems` refuses them, and every command reports that with its other
    problems. The one reader of such a list, for every option alike."""
    return tuple(x.strip() for x in text.split(",") if x.strip())


def blank_entry_problems(option: str, ids: object) -> list[Problem]:
    """The problem of the empty entries of the id list ``ids`` of ``option``, the option's
    Python keyword: a comma-separated text (``hold_closed="a,,b"``; a comma at the end,
    ``a,b,``, is an empty last entry, refused alike) or a list or tuple from Python
    (``hold_closed=["a", "", "b"]``; an entry that is empty or only blanks). Both say
    "hold_closed: entry 2 is empty" from Python and "--hold-closed: entry 2 is empty" on the
    command line (:func:`~feederopt.errors.option_ref`): an empty entry is an id left out, a
    typo, never dropped in silence. Positions count from 1. None for anything else (None, one
    number), and none for a list without any id (blank, commas only, ``[]`` or ``[""]``):
    that list names nothing, which :func:`id_list_problems` says. The problem's field is
    ``option``. Before, a Python caller was told the flag (user test ut40_recheck_b #1), and
    a list's empty entries were dropped in silence (``hold_closed=["8", "", "9"]`` held 8 and
    9; user test ut40_recheck_c #3)."""
    if isinstance(ids, str):
        entries: list[object] = list(ids.split(","))
    elif isinstance(ids, list | tuple):
        entries = list(ids)
    else:
        return []
    blank = [k + 1 for k, x in enumerate(entries) if isinstance(x, str) and not x.strip()]
    if not blank or len(blank) == len(entries):
        return []
    if len(blank) == 1:
        where = f"entry {blank[0]} is empty"
    else:
        where = f"entries {', '.join(map(str, blank[:-1]))} and {blank[-1]} are empty"
    hint = ("two commas with nothing between them (or a comma at the start or end) leave an "
            "id out: write the missing id, or remove the extra comma") if isinstance(
        ids, str) else "an empty string leaves an id out: write the missing id, or remove it"
    return [Problem(ProblemKind.INVALID_VALUE, "options", f"{option_ref(option)}: {where}",
                    field=option, hint=hint)]


def repeated_ids(ids: Sequence[object], fold: Callable[[str], str] | None = None
                 ) -> list[str]:
    """The ids given more than once in ``ids``, each once, in the order first given; with
    ``fold`` (``str.casefold`` for OpenDSS names, which are case-insensitive), every spelling
    of a repeated one (``d1, D1``)."""
    key = fold or (lambda x: x)
    text = [str(x) for x in ids]
    count: dict[str, int] = {}
    for x in text:
        count[key(x)] = count.get(key(x), 0) + 1
    return [x for x in dict.fromkeys(text) if count[key(x)] > 1]


def id_list_problems(option: str, ids: Sequence[object] | None, what: str, *,
                     field: str | None = None, example: str = "",
                     repeats: Severity = Severity.ERROR, then: str = "",
                     fold: Callable[[str], str] | None = None) -> list[Problem]:
    """The problems of the id list ``ids`` of ``option`` (its
    :func:`~feederopt.errors.option_ref`, ``option_ref("hold_closed")``, so that Python reads
    the keyword and the command line the flag) that need no network: it names no ``what``
    (``branch``; ``example`` is the hint), or it names one more than once
    (:func:`repeated_ids`). ``repeats``: a repeated id is an error (the default), or a
    warning where each id counts once (``restore``'s ``broken``; ``then`` says what that
    means). ``field``: the option's field, its Python keyword (default: ``option`` without
    its dashes, for an option given as plain text). None (the option not given) has
    none."""
    if ids is None:
        return []
    name = field or option.lstrip("-").replace("-", "_")
    if len(ids) == 0:
        return [Problem(ProblemKind.INVALID_VALUE, "options", f"{option} names no {what}",
                        field=name, hint=example)]
    twice = repeated_ids(ids, fold)
    if not twice:
        return []
    article = "an" if what[:1] in "aeiou" else "a"
    case = " (names are case-insensitive)" if fold is not None else ""
    warning = repeats is Severity.WARNING
    return [Problem(
        ProblemKind.INVALID_VALUE, "options",
        f"{option} names {article} {what} more than once{case}: {shown_list(twice)}"
        + (f" (each counted once; {then})" if warning and then else ""),
        tuple(twice), name, "" if warning else f"name each {what} once", repeats)]
