"""The package version (its own module, so that any layer may read it without the package root),
and the stamp every result JSON carries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__version__ = "0.1.0"

#: The version of the result JSON documents' layout, the same for every kind. It goes up by one
#: when a field is renamed, removed or changes its meaning or unit (a reader of version N then
#: knows what it reads); a field added leaves it as it is. Files without it are from before
#: version 1 and are read as before. The versions:
#:
#: 1. the stamp (``kind``, ``schema_version``, ``feederopt_version``) on every kind;
#: 2. a solve's ``iteration_log`` rows name their bounds with the unit, ``lower_bound_kw`` and
#:    ``upper_bound_kw`` (:data:`ITERATION_LOG_RENAMED`), as ``iterations.parquet`` does;
#: 3. a robust solve's ``objective`` and ``robust_summary.worst_case_objective_kw`` are the
#:    worst case *found* at the topology (a value it attains), and the new
#:    ``worst_case_bound_kw``, ``worst_case_proven`` and ``worst_case_search_status`` give the
#:    proven upper bound on it; before, when the worst-case search stopped before its proof,
#:    both held that bound (:func:`robust_as_current` reads such a file anew);
#: 4. a schedule's ``within_limits`` is its one verdict (the hourly AC check and the samples of
#:    ``--samples``, the exit code's), and the new ``ac_within_limits`` the AC check's alone,
#:    which ``within_limits`` held before (a reader of an older file takes it as the AC's).
SCHEMA_VERSION = 4

#: The bounds of a row of a solve's iteration log as schema version 1 named them in
#: ``result.json``'s ``iteration_log`` (and releases before the unit in ``iterations.parquet``),
#: and their names since: the objective's bounds, in kW-equivalent (losses plus the switching
#: cost, and priced generation, in kW). The JSON said ``lower_bound`` where the folder's table
#: beside it said ``lower_bound_kw`` (user test ut38_cli #1). Readers accept both
#: (:func:`iteration_row`).
ITERATION_LOG_RENAMED = {"lower_bound": "lower_bound_kw", "upper_bound": "upper_bound_kw"}


def stamped(kind: str, doc: Mapping[str, Any]) -> dict[str, Any]:
    """``doc`` with ``kind`` (which command wrote it), ``schema_version`` and
    ``feederopt_version`` first: a result JSON says what it is and which layout and release
    wrote it, so that a reader (``feederopt report``, ``read_result``, a user's script) need
    not guess from its fields (the solve result had none of the three; user test ut_out #3)."""
    rest = {k: v for k, v in doc.items()
            if k not in ("kind", "schema_version", "feederopt_version")}
    return {"kind": kind, "schema_version": SCHEMA_VERSION, "feederopt_version": __version__,
            **rest}


def check_schema_version(doc: Any, path: str) -> None:
    """Refuse a result document ``doc`` (read from ``path``) whose ``schema_version`` is newer
    than :data:`SCHEMA_VERSION`, with a typed problem (exit code 2 on the command line): a
    newer layout may have renamed a field or changed its meaning or unit, and reading it as
    this version's would show wrong figures as if they were right. A document without the
    stamp (written before it) or with this version or an older one passes; a stamp that is
    no whole number is refused as well."""
    from feederopt.errors import InputError, Problem, ProblemKind

    if not isinstance(doc, Mapping) or "schema_version" not in doc:
        return
    version = doc["schema_version"]
    if isinstance(version, bool) or not isinstance(version, int):
        raise InputError([Problem(
            ProblemKind.UNREADABLE_FILE, "result", f"result.json holds a schema_version that "
            f"is no whole number: {version!r}", (path,), "schema_version",
            f"feederopt {__version__} writes schema_version {SCHEMA_VERSION}: write the "
            "result again with the command that made it")])
    if version > SCHEMA_VERSION:
        writer = doc.get("feederopt_version")
        by = f" (by feederopt {writer})" if isinstance(writer, str) else ""
        raise InputError([Problem(
            ProblemKind.UNREADABLE_FILE, "result", f"the result was written in schema "
            f"version {version}{by}, newer than version {SCHEMA_VERSION}, which feederopt "
            f"{__version__} reads: its fields may have changed name, meaning or unit",
            (path,), "schema_version",
            "read it with the feederopt release that wrote it (or a newer one), or write the "
            "result again with this one")])


def iteration_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row of a solve's ``iteration_log`` with this version's names: a row written by an
    older release (schema version 1, or none), ``lower_bound``/``upper_bound``, gets
    ``lower_bound_kw``/``upper_bound_kw`` (:data:`ITERATION_LOG_RENAMED`); a row that has the
    new names is returned as it is (a copy)."""
    return {(ITERATION_LOG_RENAMED[k] if k in ITERATION_LOG_RENAMED
             and ITERATION_LOG_RENAMED[k] not in row else k): v for k, v in row.items()}


#: Two kW figures closer than this are the same (the solvers' tolerance, below the 0.001 kW
#: that the console prints).
_SAME_KW = 1e-3

#: The ``robust_summary.worst_case_search_status`` that :func:`robust_as_current` gives an old
#: file whose worst-case search stopped before its proof: the file did not record the search's
#: status (a SCIP status such as ``time_limit``), only that its figure was a bound. The console
#: and the report word it as such, not as a status the search ended with.
UNRECORDED_SEARCH_STATUS = "not proven"


def robust_as_current(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A robust solve's document written before schema version 3 in this version's layout:
    its ``robust_summary.worst_case_objective_kw`` was the worst-case search's upper bound
    when the search stopped before its proof, and ``objective`` that bound plus the switching
    cost. The worst case found is the largest ``objective_kw`` of its ``robust`` rows (the
    topology's extreme points evaluated): where the old figure lies above it, the file's run
    stopped that search, and the bound becomes ``worst_case_bound_kw``, the objective the
    worst case found plus the switching cost (``worst_case_search_status``
    :data:`UNRECORDED_SEARCH_STATUS`: the old file did not say why); else the worst case was
    proven. A document without a ``robust_summary``, or that has ``worst_case_bound_kw``
    already, is returned as it is."""
    summ = doc.get("robust_summary")
    if not isinstance(summ, Mapping) or "worst_case_bound_kw" in summ:
        return dict(doc)
    old = summ.get("worst_case_objective_kw")
    found = [float(r["objective_kw"]) for r in doc.get("robust") or []
             if isinstance(r, Mapping) and isinstance(r.get("objective_kw"), (int, float))]
    if not isinstance(old, (int, float)) or not found:
        return {**doc, "robust_summary": {**summ, "worst_case_bound_kw": old,
                                          "worst_case_proven": None,
                                          "worst_case_search_status": None}}
    best = max(found)
    if old <= best + max(_SAME_KW, 1e-6 * abs(best)):
        return {**doc, "robust_summary": {**summ, "worst_case_bound_kw": old,
                                          "worst_case_proven": True,
                                          "worst_case_search_status": "optimal"}}
    objective = doc.get("objective")
    return {**doc,
            "objective": objective - (old - best) if isinstance(objective, (int, float))
            else objective,
            "robust_summary": {**summ, "worst_case_objective_kw": best,
                               "worst_case_bound_kw": old, "worst_case_proven": False,
                               "worst_case_search_status": UNRECORDED_SEARCH_STATUS}}


def read_as_current(doc: Any, path: str) -> Any:
    """A result document ``doc`` read from ``path`` in this version's layout: refused when it
    is newer (:func:`check_schema_version`); an older one's renamed fields under their names
    now (a solve's ``iteration_log`` rows: :func:`iteration_row`), so that every reader of it
    (``read_result``, ``feederopt report``, ``feederopt check``) reads one layout; an older
    robust solve's worst case: :func:`robust_as_current`. The stamp
    (``schema_version``) stays what the file says; anything else is returned as it is."""
    check_schema_version(doc, path)
    if not isinstance(doc, Mapping):
        return doc
    version = doc.get("schema_version")
    if (not isinstance(version, int) or version < 3) and "robust_summary" in doc:
        doc = robust_as_current(doc)
    log = doc.get("iteration_log")
    if isinstance(log, list) and any(isinstance(r, Mapping) and not ITERATION_LOG_RENAMED.keys()
                                     .isdisjoint(r) for r in log):
        return {**doc, "iteration_log": [iteration_row(r) if isinstance(r, Mapping) else r
                                         for r in log]}
    return doc


#: The kinds that :func:`document_kind` gives documents from their fields, which no command
#: writes as a ``kind`` (a three-phase ``solve --json`` of before the stamp, a partition check,
#: stamped ``partition``).
INFERRED_KINDS = ("three_phase_json", "partition_check")


def document_kind(doc: Mapping[str, Any]) -> Any:
    """The kind of the result document ``doc`` as written (its ``kind``; for a document without
    one, what its keys say), unchecked; None when nothing says. A document written before the
    stamp has no ``kind``: a solve's has ``open_branches`` (its check's
    ``feasible_share_convex``), a three-phase solve's ``open_switches``; a partition check is
    stamped ``partition`` but has ``samples`` and no ``blocks``."""
    kind = doc.get("kind")
    if kind is None:
        if "feasible_share_convex" in doc:
            return "solve_check"  # what `feederopt check SOLVE_RESULT --json` writes
        if "open_branches" in doc:
            return "solve"
        if doc.get("method") == "lindist3flow" or "open_switches" in doc:
            return "three_phase_json"  # --out writes its folder with the kind
        return None
    if kind == "partition" and "blocks" not in doc and "samples" in doc:
        return "partition_check"  # what `feederopt check PARTITION_RESULT --json` writes
    return kind
