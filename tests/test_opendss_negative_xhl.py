"""A transformer's leakage reactance XHL is never negative: XHL=-2 is a bad_impedance problem
naming the transformer (user test ut36_errs #4: it was read without a word; negative
resistances and lengths were already refused, a negative series reactance is a line's series
capacitor only)."""
from pathlib import Path

import pytest

from feederopt.cases.loading import load_three_phase
from feederopt.cases.threephase import OPENDSS_DIR
from feederopt.errors import InputError, ProblemKind

EXTRA = ("New Transformer.tb Phases=3 Windings=2 XHL={x} buses=[680 685] kVs=[4.16 0.48] "
         "kVAs=[500 500]\nNew Load.l685 Bus1=685 Phases=3 Model=1 kV=0.48 kW=50 kvar=10\n")


def _feeder(tmp_path: Path, x: str) -> Path:
    lines = (OPENDSS_DIR / "network.ieee13.dss").read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.lower().startswith("set voltagebases"))
    path = tmp_path / "feeder.dss"
    path.write_text("".join(lines[:at]) + EXTRA.format(x=x) + "".join(lines[at:]))
    return path


def test_a_negative_xhl_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError) as exc:
        load_three_phase(str(_feeder(tmp_path, "-2")))
    (p,) = [q for q in exc.value.problems if q.field == "xhl"]
    assert p.kind is ProblemKind.BAD_IMPEDANCE and p.ids == ("tb",)


def test_a_positive_xhl_reads(tmp_path: Path) -> None:
    net = load_three_phase(str(_feeder(tmp_path, "2")))
    assert "tb" in net.transformers["id"].to_list()
