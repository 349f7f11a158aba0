"""Restricting an occupancy to one subnet (the ip-occupancy notebook's `pool_range`): the table
and the grid pictures."""

from __future__ import annotations

import ipaddress
from typing import Any

import pandas as pd
import pytest

from runbooklib.occupancy import Occupancy, show_subnet_grids

A = ipaddress.ip_network("198.18.205.0/24")
B = ipaddress.ip_network("198.18.207.0/24")


@pytest.fixture
def occ() -> Occupancy:
    frame = pd.DataFrame({"subnet": ["198.18.205.0/24", "198.18.205.0/24", "198.18.207.0/24"],
                          "address": ["198.18.205.1", "198.18.205.2", "198.18.207.1"],
                          "state": ["free", "allocated", "free"]})
    return Occupancy(frame=frame, summary=pd.DataFrame(), subnets=[A, B])


def test_in_subnet(occ: Occupancy) -> None:
    assert occ.in_subnet("") is occ.frame
    assert occ.in_subnet() is occ.frame
    assert occ.in_subnet("198.18.205.0/24")["address"].tolist() == ["198.18.205.1", "198.18.205.2"]
    assert occ.in_subnet("198.18.207.0/24")["address"].tolist() == ["198.18.207.1"]
    assert occ.in_subnet("10.0.0.0/24").empty
    assert list(occ.in_subnet("10.0.0.0/24").columns) == ["subnet", "address", "state"]


def test_subnets_matching(occ: Occupancy) -> None:
    assert occ.subnets_matching("") == [A, B]
    assert occ.subnets_matching("198.18.207.0/24") == [B]
    assert occ.subnets_matching("198.18.207.0/23") == []


def test_show_subnet_grids_displays_and_closes_each(occ: Occupancy, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plotted: list[Any] = []

    def fake_plot(frame: pd.DataFrame, subnet: Any) -> Any:
        assert frame is occ.frame  # the whole table: the picture finds its subnet's rows itself
        plotted.append(subnet)
        return plt.figure()

    monkeypatch.setattr("runbooklib.occupancy.render.plot_subnet_grid", fake_plot)
    plt.close("all")
    show_subnet_grids(occ)
    assert plotted == [A, B]
    assert plt.get_fignums() == []  # closed after display: shown once, not again at the end of the cell
    assert capsys.readouterr().out.count("Figure") == 2
    plotted.clear()
    show_subnet_grids(occ, "198.18.207.0/24")
    assert plotted == [B]
