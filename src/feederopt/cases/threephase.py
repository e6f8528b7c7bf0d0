"""Built-in three-phase feeders (OpenDSS files in ``cases/data/opendss``; sources and licences in
its README).

* ``ieee13``, ``ieee13mod``: PowerModelsONM's IEEE 13-node microgrid cases (``ieee13mod`` with
  its settings file: grid-forming inverters);
* ``ieee37``: the IEEE 37-node feeder, OpenDSS's own copy; ``ieee37mod``: modified for
  networked-microgrid partitioning (seed 001; choices in the data README);
* ``iowa240``: the Iowa State 240-bus real feeder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from feederopt.network.threephase import ThreePhaseNetwork

OPENDSS_DIR = Path(__file__).parent / "data" / "opendss"


@dataclass(frozen=True)
class ThreePhaseCase:
    name: str
    file: str  # relative to OPENDSS_DIR
    description: str
    settings: str | None = None


THREE_PHASE_CASES: dict[str, ThreePhaseCase] = {
    c.name: c
    for c in (
        ThreePhaseCase("ieee13", "network.ieee13.dss",
                       "IEEE 13-node feeder with microgrid switches and DERs, "
                       "from PowerModelsONM"),
        ThreePhaseCase("ieee13mod", "network.ieee13mod.dss",
                       "IEEE 13-node microgrid case (switches, grid-forming DERs, storage), "
                       "from PowerModelsONM", "settings.ieee13mod.json"),
        ThreePhaseCase("ieee37", "ieee37/ieee37.dss",
                       "IEEE 37-node delta feeder with open-delta regulator, "
                       "from OpenDSS (electricdss-tst)"),
        ThreePhaseCase("ieee37mod", "ieee37mod/ieee37mod.dss",
                       "IEEE 37-node feeder modified for networked microgrids (seed 001): "
                       "10 switches, 7 DERs", "ieee37mod/settings.ieee37mod.json"),
        ThreePhaseCase("iowa240", "network.iowa240.dss",
                       "Iowa State 240-bus real feeder, from PowerModelsONM"),
    )
}


def has_three_phase_case(name: str) -> bool:
    return name in THREE_PHASE_CASES


def three_phase_case_path(name: str) -> Path:
    return OPENDSS_DIR / THREE_PHASE_CASES[name].file


def load_three_phase_case(name: str, *, check: bool = True) -> ThreePhaseNetwork:
    """The built-in three-phase case ``name`` (read by OpenDSS), validated unless
    ``check=False``."""
    from feederopt.io.opendss import read_opendss

    case = THREE_PHASE_CASES[name]
    settings = OPENDSS_DIR / case.settings if case.settings else None
    net = read_opendss(OPENDSS_DIR / case.file, name=name, settings=settings)
    net.meta["case"] = name
    return net.check() if check else net
