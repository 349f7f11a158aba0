"""IP occupancy: who holds which address on the storage segment, from every source.

Sources: static occupants (params), NAD pools, whereabouts IPPool allocations, Overlapping-
RangeIPReservations, pods' network-status, an optional live look. States: see `AddressState`.
Modules: `model` (inputs, states), `sources` (params/objects → inputs), `build` (the table),
`findings`, `render` (Styler, grid picture, terminal text), `live`, `gather` (params → table).
"""

from runbooklib.occupancy.build import Occupancy, build_occupancy
from runbooklib.occupancy.gather import add_cluster_sources, occupancy_for_params
from runbooklib.occupancy.model import (
    AddressState,
    Allocation,
    LiveAddress,
    NodeState,
    OccupancyInputs,
    PodState,
    PoolSource,
    Reservation,
    StaticHolder,
)
from runbooklib.occupancy.render import STATE_COLOURS, occupancy_text, plot_subnet_grid, show_subnet_grids, style_occupancy
from runbooklib.occupancy.sources import (
    allocations_from_ippool,
    inputs_from_params,
    nodes_from_objects,
    pods_from_objects,
    pools_from_documents,
    reservations_from_objects,
)

__all__ = [
    "STATE_COLOURS", "AddressState", "Allocation", "LiveAddress", "NodeState", "Occupancy", "OccupancyInputs", "PodState",
    "PoolSource", "Reservation", "StaticHolder", "add_cluster_sources", "allocations_from_ippool", "build_occupancy",
    "inputs_from_params", "nodes_from_objects", "occupancy_for_params", "occupancy_text", "plot_subnet_grid",
    "pods_from_objects", "pools_from_documents", "reservations_from_objects", "show_subnet_grids", "style_occupancy",
]
