"""The grid figure's device markers (a DOPF's capacitors and DGs) carry their ids and a
leader line to their bus (user test ut49_report #4: on case70da_khodr the capacitor triangles
and DG stars sat offset from buses 49, 64, 15, 29 with no id).

Truth: the hand-made grid's bus coordinates and the devices' ids and buses given to it.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from feederopt.report.plot import grid_figure

BUSES = pl.DataFrame({"id": ["s", "15", "29", "49"], "is_source": [True, False, False, False],
                      "vm_pu": [1.0, 0.99, 0.98, 0.97]})
BRANCHES = pl.DataFrame({"id": ["l1", "l2", "l3"], "from_bus": ["s", "15", "29"],
                         "to_bus": ["15", "29", "49"], "closed": [True, True, True],
                         "switchable": [False, False, False]})
POS = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, -1.0], [3.0, -1.0]])
DEVICES = [{"id": "cap:0", "kind": "capacitor", "bus": "49", "on": True},
           {"id": "cap:1", "kind": "capacitor", "bus": "15", "on": True},
           {"id": "gen:3", "kind": "generator", "bus": "29", "on": False}]


def test_devices_have_ids_and_leaders_to_their_buses() -> None:
    ax = grid_figure(BUSES, BRANCHES, POS, devices=DEVICES).axes[0]
    texts = {t.get_gid(): t for t in ax.texts if t.get_gid()}
    lines = {ln.get_gid(): ln for ln in ax.lines if ln.get_gid()}
    for d in DEVICES:
        label = texts.get(f"device-label:{d['kind']}:{d['id']}")
        assert label is not None and label.get_text() == d["id"]
        leader = lines.get(f"device-leader:{d['kind']}:{d['id']}")
        assert leader is not None
        x, y = leader.get_data()
        bus = POS[BUSES["id"].to_list().index(d["bus"])]
        # one end at the device's bus, the other at the label's anchor (the marker)
        assert (float(x[0]), float(y[0])) == (bus[0], bus[1])
        assert np.allclose((x[1], y[1]), label.xy)
