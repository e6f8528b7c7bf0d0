"""Loading a case of feederopt's own data, or any case by name, needs no pandapower import.

``load("zhang13")`` asked :func:`feederopt.io.is_pandapower_net` whether the name was a net,
and that imported pandapower (with matplotlib, through ``pandapower.plotting``: 1.5-4 s of
every command on a case name, ``feederopt info no_such_case`` included). A pandapower net can
exist only once ``pandapower.auxiliary`` is imported, so the question is answered from
:data:`sys.modules`. Truth: an import hook that fails on any import of ``pandapower.auxiliary``.
"""

from __future__ import annotations

import importlib.abc
import sys
from typing import Any

import pandapower.networks as pn
import pytest

from feederopt.cases import load
from feederopt.io import is_pandapower_net


class _NoPandapower(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "pandapower.auxiliary":
            raise AssertionError("pandapower.auxiliary was imported")
        return None


def test_a_case_name_is_loaded_without_importing_pandapower(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "pandapower.auxiliary")
    monkeypatch.setattr(sys, "meta_path", [_NoPandapower(), *sys.meta_path])
    assert not is_pandapower_net("zhang13")
    assert not is_pandapower_net(object())
    net = load("zhang13")
    assert len(net.buses) == 13
    assert "pandapower.auxiliary" not in sys.modules


def test_a_pandapower_net_is_still_one() -> None:
    net = pn.case33bw()
    assert is_pandapower_net(net)
    assert not is_pandapower_net(dict(net))
    assert len(load(net).buses) == 33
