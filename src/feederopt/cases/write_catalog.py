"""``python -m feederopt.cases.write_catalog``: build every built-in case and store its counts
in ``cases/data/catalog.json`` (:mod:`feederopt.cases.catalog`), after a case or a reader
changes."""

from feederopt.cases.registry import write_catalog

if __name__ == "__main__":  # pragma: no cover - a maintainer's command
    print(f"{write_catalog()} cases written")
