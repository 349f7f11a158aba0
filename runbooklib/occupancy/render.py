"""Showing an occupancy table: a Styler coloured by state, the subnet as a grid picture, and a
terminal table where runs of free/excluded addresses are folded into one line."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runbooklib.nad.pools import IPNetwork
from runbooklib.occupancy.model import AddressState, ip_text

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from pandas.io.formats.style import Styler

    from runbooklib.occupancy.build import Occupancy

S = AddressState
STATE_COLOURS: dict[str, str] = {
    S.FREE.value: "#d9f0d3",
    S.EXCLUDED.value: "#bdbdbd",
    S.RESERVED.value: "#6baed6",
    S.ALLOCATED.value: "#1a9850",
    S.PENDING.value: "#fee08b",
    S.UNVERIFIED.value: "#fdae61",
    S.HELD_UNREACHABLE.value: "#c51b7d",
    S.STALE.value: "#f46d43",
    S.MISSING.value: "#762a83",
    S.DUPLICATE.value: "#d73027",
    S.OUT_OF_POOL.value: "#8c510a",
    S.CONFLICT.value: "#67001f",
}
OUTSIDE = "outside pools"
NET_BCAST = "network/broadcast"
GRID_EXTRA = {OUTSIDE: "#f7f7f7", NET_BCAST: "#525252"}
DARK_STATES = {S.ALLOCATED.value, S.HELD_UNREACHABLE.value, S.MISSING.value, S.DUPLICATE.value, S.OUT_OF_POOL.value,
               S.CONFLICT.value, S.RESERVED.value}


def style_occupancy(frame: pd.DataFrame) -> Styler:
    """The table for notebooks/HTML: each row's state cell (and address) coloured by state."""

    def colour(row: pd.Series) -> list[str]:
        bg = STATE_COLOURS.get(str(row["state"]), "")
        fg = "white" if row["state"] in DARK_STATES else "black"
        css = f"background-color: {bg}; color: {fg}" if bg else ""
        return [css if col in ("address", "state") else "" for col in row.index]

    # escape: holders/notes come from the cluster (pod names, annotations) and the params; never raw HTML.
    # No index; left-aligned; long holders/details wrapped so the table fits the page (the same
    # look as runbooklib.report.rows_table, whose CSS this reuses).
    from runbooklib.report import TABLE_CELL_STYLE, TABLE_STYLE, wrap_css

    return (frame.style.apply(colour, axis=1).map(lambda v: wrap_css(str(v), break_points=False).lstrip(";"))
            .format(escape="html").hide(axis="index")
            .set_table_styles([{"selector": "", "props": TABLE_STYLE},
                               {"selector": "th", "props": TABLE_CELL_STYLE + ";border-bottom:1px solid #999"},
                               {"selector": "td", "props": TABLE_CELL_STYLE}]))


def plot_subnet_grid(frame: pd.DataFrame, subnet: IPNetwork, *, ax: Axes | None = None, path: str | None = None,
                     title: str | None = None) -> Figure:
    """The subnet as a grid of addresses coloured by state, with a legend; saved as PNG if `path`.

    A /24 is 16x16 cells with the last octet written in each; larger subnets become a square-ish
    image (256 columns for a /16) without labels.
    """
    import sys

    import matplotlib

    if ax is None and "ipykernel" not in sys.modules:
        # headless CLI use; inside a Jupyter kernel keep its (inline) backend, or the figure never shows
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    names = list(STATE_COLOURS) + list(GRID_EXTRA)
    code = {n: i for i, n in enumerate(names)}
    colours = [STATE_COLOURS.get(n) or GRID_EXTRA[n] for n in names]
    total = subnet.num_addresses
    cols = 16 if total <= 256 else int(2 ** ((total.bit_length() - 1 + 1) // 2))
    rows = (total + cols - 1) // cols
    grid = np.full(rows * cols, code[OUTSIDE], dtype=np.int16)
    base = int(subnet.network_address)
    sub = frame[frame["subnet"] == str(subnet)] if "subnet" in frame else frame
    if len(sub):
        from runbooklib.nad.pools import parse_ip

        offsets = np.fromiter((int(parse_ip(a)) - base for a in sub["address"]), dtype=np.int64, count=len(sub))  # type: ignore[arg-type]
        states = np.fromiter((code.get(s, code[OUTSIDE]) for s in sub["state"]), dtype=np.int16, count=len(sub))
        ok = (offsets >= 0) & (offsets < total)
        grid[offsets[ok]] = states[ok]
    if total >= 4:
        grid[0] = code[NET_BCAST]
        grid[total - 1] = code[NET_BCAST]
    grid[total:] = -1
    image = np.ma.masked_less(grid.reshape(rows, cols), 0)
    size = 8 if total <= 256 else 10
    fig = ax.figure if ax is not None else plt.figure(figsize=(size + 3.5, size))
    ax = ax or fig.add_subplot(1, 1, 1)
    ax.imshow(image, cmap=ListedColormap(colours), vmin=0, vmax=len(names) - 1, interpolation="nearest")
    if total <= 256:
        for i in range(total):
            r, c = divmod(i, cols)
            fg = "white" if names[grid[i]] in DARK_STATES or names[grid[i]] == NET_BCAST else "black"
            ax.text(c, r, str(i), ha="center", va="center", fontsize=6, color=fg)
    ax.set_xticks([])
    ax.set_yticks([])
    if total <= 256:
        ax.set_yticks(range(rows), [ip_text(base + r * cols, subnet.version) for r in range(rows)], fontsize=6)
    present = sorted(set(grid[: total].tolist()))
    counts = {names[c]: int((grid[: total] == c).sum()) for c in present}
    handles = [Patch(facecolor=colours[c], edgecolor="#444444", label=f"{names[c]} ({counts[names[c]]})") for c in present]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False)
    ax.set_title(title or f"{subnet}: which addresses are taken?")
    if path:
        fig.savefig(path, dpi=120, bbox_inches="tight")
    return fig  # type: ignore[return-value]


def show_subnet_grids(occ: Occupancy, subnet: str = "") -> None:
    """Display the grid picture of each subnet of `occ` (only `subnet` when given), closing each
    figure after display so a notebook shows every picture exactly once."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    for net in occ.subnets_matching(subnet):
        fig = plot_subnet_grid(occ.frame, net)
        display(fig)
        plt.close(fig)


def _fold(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows with consecutive free (or excluded) addresses of one pool folded into a range."""
    out: list[dict[str, Any]] = []
    for rec in frame.to_dict(orient="records"):
        prev = out[-1] if out else None
        foldable = rec["state"] in (S.FREE.value, S.EXCLUDED.value)
        if prev is not None and foldable and prev["state"] == rec["state"] and prev["pool"] == rec["pool"] \
                and prev["subnet"] == rec["subnet"]:
            prev["last"] = rec["address"]
            prev["count"] += 1
            continue
        out.append({**rec, "last": rec["address"], "count": 1})
    return out


HOLDER_WIDTH = 60  # terminal table: the holder column grows to its longest value up to this, then wraps
POOL_WIDTH = 40


def _wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` (split after ", " between holders, else anywhere); never cut."""
    import textwrap

    return textwrap.wrap(text, width, break_on_hyphens=False) or [""]


def occupancy_text(occ: Occupancy) -> str:
    """A readable terminal table: summary per pool, then rows (free runs folded), then findings.
    Holder and pool are never cut: the columns widen to their longest value (up to `HOLDER_WIDTH` /
    `POOL_WIDTH`) and longer values wrap onto continuation lines."""
    lines: list[str] = []
    if len(occ.summary):
        lines.append(occ.summary.to_string(index=False))
        lines.append("")
    for subnet, table in occ.tables_by_subnet().items():
        rows = _fold(table)
        hw = min(HOLDER_WIDTH, max([len("holder"), *(len(str(r["holder"])) for r in rows)]))
        pw = min(POOL_WIDTH, max([len("pool"), *(len(str(r["pool"])) for r in rows)]))
        lines.append(f"== {subnet or '(outside known subnets)'}")
        lines.append(f"{'address':<33} {'state':<17} {'holder':<{hw}} {'pool':<{pw}} detail")
        for r in rows:
            addr = r["address"] if r["count"] == 1 else f"{r['address']}-{r['last'].rsplit('.', 1)[-1]} ({r['count']})"
            holder, pool = _wrap(str(r["holder"]), hw), _wrap(str(r["pool"]), pw)
            lines.append(f"{addr:<33} {r['state']:<17} {holder[0]:<{hw}} {pool[0]:<{pw}} {r['detail']}".rstrip())
            for h, p in zip(holder[1:] + [""] * len(pool), pool[1:] + [""] * len(holder), strict=False):
                if h or p:
                    lines.append(f"{'':<33} {'':<17} {h:<{hw}} {p}".rstrip())
        lines.append("")
    for f in occ.findings:
        lines.append(f"[{f.severity.value.upper():4}] {f.title}" + (f": {f.detail}" if f.detail else ""))
    return "\n".join(lines)
