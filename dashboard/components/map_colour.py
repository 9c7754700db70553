"""What the latent map's points are coloured by, and the density contours drawn under them.

Both are built here, in Python, and drawn by the canvas (map_colour.js), which follows the zoom:

- ``colouring``: one value per point (a test digit's negative ELBO, KL, classifier confidence or one
  coordinate of its posterior mean; ``vae_core.point_stats`` says how each is computed) with the range the
  colormap spans (the 1st to 99th percentile, so a few outliers do not wash out the rest), its title and
  unit, and the colormap (viridis: perceptually uniform, readable in grey and by most colour-blind readers);
- ``contours``: a Gaussian kernel density estimate of the points (all of them, or each class on its own)
  on a grid over the map, traced by marching squares at the densities whose regions hold ``LEVELS`` of the
  points. Lines are segments in the map's data coordinates.
"""

from __future__ import annotations

import re

import numpy as np

CLASS = "class"
# The per-digit values (vae_core.checks.POINT_STATS) by URL name: (title, unit).
VALUES = {"nelbo": ("Reconstruction error (negative ELBO)", "nats"),
          "confidence": ("Classifier confidence on the reconstruction", "top probability"),
          "kl": ("KL divergence", "nats")}
SHORT = {"nelbo": "reconstruction error", "confidence": "classifier confidence", "kl": "KL divergence"}
DIM = re.compile(r"dim([0-9]{1,3})")  # "dim3": the posterior mean's value in latent dimension 3
CONTOURS = {"off": "Off", "all": "All points", "class": "Per class"}
# viridis (matplotlib's, by van der Walt and Smith) at 10 evenly spaced stops; the page interpolates between them.
VIRIDIS = ("#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b",
           "#fde725")
GRID = 96  # density cells across and up
LEVELS = (0.9, 0.6, 0.3)  # a line encloses the densest region holding this share of the points
ISLAND = 0.01  # a region above a level holding less than this share of the mass gets no line
DECIMALS = 4  # of a value or a coordinate sent to the page


def options(arrays: dict, latent_dim: int) -> tuple[list[str], list[str]]:
    """(what the map can be coloured by, the per-digit values the cached maps lack)."""
    missing = [name for name in VALUES if name not in arrays]
    offered = [CLASS, *(name for name in VALUES if name in arrays), *(f"dim{d}" for d in range(latent_dim))]
    return offered, missing


def label(by: str) -> str:
    """The picker's name for ``by``: 'Class', 'Reconstruction error', 'Latent dimension 3' (its colour bar says
    more)."""
    if by in SHORT:
        return SHORT[by][:1].upper() + SHORT[by][1:]
    found = DIM.fullmatch(by)
    return f"Latent dimension {found.group(1)}" if found else "Class"


def parse(text: str | None, offered: list[str]) -> str | None:
    """A link's or a widget's colouring, when the map offers it; else None."""
    return text if isinstance(text, str) and text in offered else None


def missing_note(missing: list[str], dataset: str) -> str:
    """One line: which colourings the cached maps lack, and the command that adds them ('' when none)."""
    if not missing:
        return ""
    names = [SHORT[name] for name in missing]
    names = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
    return (f"Colouring by {names} needs values these maps were cached without: run "
            f"`vae-explorer project --dataset {dataset}` to add them.")


def colouring(values: np.ndarray, by: str) -> dict:
    """The page's colouring of the points by ``values`` [M] (aligned with the map's points)."""
    values = np.asarray(values, dtype=np.float64)
    low, high = (np.percentile(values, [1, 99]) if len(values) else (0.0, 1.0))
    if not high > low:
        low, high = low - 0.5, high + 0.5
    found = DIM.fullmatch(by)
    title, unit = VALUES[by] if by in VALUES else (f"{label(by)} (posterior mean)", f"z{found.group(1)}" if found
                                                   else "")
    return {"by": by, "values": np.round(values, DECIMALS).tolist(), "range": [float(low), float(high)],
            "title": title, "unit": unit, "stops": list(VIRIDIS)}


def density(x: np.ndarray, y: np.ndarray, extent: tuple[float, float, float, float],
            bandwidth: tuple[float, float]) -> np.ndarray:
    """A Gaussian kernel density of the points on ``GRID`` x ``GRID`` cells over ``extent`` (x0, x1, y0, y1),
    normalised to sum to 1: the points binned, then blurred (the kernel in cells, separable)."""
    x0, x1, y0, y1 = extent
    counts, _, _ = np.histogram2d(y, x, bins=GRID, range=[[y0, y1], [x0, x1]])  # [row: y, column: x]
    cells = np.arange(GRID)

    def blur(width: float) -> np.ndarray:
        sigma = max(width, 0.5)
        kernel = np.exp(-0.5 * ((cells[:, None] - cells[None, :]) / sigma) ** 2)
        return kernel / kernel.sum(axis=1, keepdims=True)

    grid = blur(bandwidth[1] / ((y1 - y0) / GRID)) @ counts @ blur(bandwidth[0] / ((x1 - x0) / GRID)).T
    total = grid.sum()
    return grid / total if total > 0 else grid


def bandwidth(x: np.ndarray, y: np.ndarray, share: float = 0.5) -> tuple[float, float]:
    """Silverman's robust scale times Scott's factor n^(-1/6), times ``share`` (below 1: clusters keep their
    shapes)."""
    def scale(v: np.ndarray) -> float:
        spread = np.subtract(*np.percentile(v, [75, 25])) / 1.349
        return float(min(np.std(v), spread) if spread > 0 else np.std(v)) or 1.0

    factor = share * max(len(x), 2) ** (-1 / 6)
    return scale(x) * factor, scale(y) * factor


def levels(grid: np.ndarray) -> list[float]:
    """The densities whose regions (cells at least that dense) hold ``LEVELS`` of the mass."""
    ordered = np.sort(grid.ravel())[::-1]
    mass = np.cumsum(ordered)
    return [float(ordered[min(np.searchsorted(mass, share), len(ordered) - 1)]) for share in LEVELS]


def segments(grid: np.ndarray, level: float, extent: tuple[float, float, float, float]) -> np.ndarray:
    """Marching squares: where ``grid`` crosses ``level``, as segments [S, 4] (x0, y0, x1, y1) in data coordinates
    (grid value [i, j] at the i-th y and the j-th x of ``extent``'s ``GRID`` sample points)."""
    x0, x1, y0, y1 = extent
    xs, ys = np.linspace(x0, x1, GRID), np.linspace(y0, y1, GRID)
    a, b, c, d = (v.ravel() for v in (grid[:-1, :-1], grid[:-1, 1:], grid[1:, 1:], grid[1:, :-1]))  # corners
    i, j = (v.ravel() for v in np.meshgrid(np.arange(GRID - 1), np.arange(GRID - 1), indexing="ij"))
    left, right, bottom, top = xs[j], xs[j + 1], ys[i], ys[i + 1]
    # The four edges of every cell (bottom, right, top, left): its ends' values and places.
    ends = [(a, b, left, bottom, right, bottom), (b, c, right, bottom, right, top),
            (d, c, left, top, right, top), (a, d, left, bottom, left, top)]
    hit, px, py = [], [], []
    for p, q, ax, ay, bx, by in ends:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            t = np.nan_to_num(np.clip((level - p) / (q - p), 0, 1))
        hit.append((p > level) != (q > level))
        px.append(ax + t * (bx - ax))
        py.append(ay + t * (by - ay))
    hit, px, py = np.array(hit), np.array(px), np.array(py)  # [4, cells]
    count = hit.sum(axis=0)
    pairs = []
    one = np.flatnonzero(count == 2)
    order = np.argsort(~hit[:, one], axis=0, kind="stable")  # its two crossed edges first
    pairs.append((order[0], order[1], one))
    saddle = np.flatnonzero(count == 4)  # two lines: they cut off the two corners on the other side from the centre
    apart = ((a + b + c + d)[saddle] / 4 > level) == (a[saddle] > level)
    pairs += [(np.where(apart, 0, 0), np.where(apart, 1, 3), saddle), (np.where(apart, 2, 1), np.where(apart, 3, 2),
                                                                        saddle)]
    out = [np.stack([px[e, cells], py[e, cells], px[f, cells], py[f, cells]], axis=1) for e, f, cells in pairs]
    return np.concatenate(out)


def without_islands(grid: np.ndarray, level: float) -> np.ndarray:
    """``grid`` with the regions above ``level`` that hold less than ``ISLAND`` of the mass lowered to 0: a few
    stray points make small closed lines of their own, which read as noise, not as a cluster's shape."""
    from scipy import ndimage

    regions, count = ndimage.label(grid > level)
    if count < 2:
        return grid
    masses = np.asarray(ndimage.sum(grid, regions, np.arange(1, count + 1)))
    small = np.flatnonzero(masses < ISLAND * grid.sum()) + 1
    return np.where(np.isin(regions, small), 0.0, grid)


def contours(x: np.ndarray, y: np.ndarray, labels: np.ndarray, mode: str) -> list[dict]:
    """The lines of ``mode`` ('all', 'class'; anything else: none): [{"class": k or None, "level": n, "segments":
    [x0, y0, x1, y1, ...]}], the outermost level first."""
    if mode not in ("all", "class") or len(x) < 3:
        return []
    x, y, labels = (np.asarray(v, dtype=np.float64) for v in (x, y, labels))
    width = bandwidth(x, y)
    pad = 3 * max(width)  # the grid reaches past the points, so lines close
    extent = (x.min() - pad, x.max() + pad, y.min() - pad, y.max() + pad)
    groups = [(None, np.ones(len(x), dtype=bool))] if mode == "all" else \
        [(int(k), labels == k) for k in np.unique(labels)]
    lines = []
    for k, members in groups:
        if members.sum() < 3:
            continue
        own = width if k is None else bandwidth(x[members], y[members], 0.7)  # a class: smoother, it has fewer points
        grid = density(x[members], y[members], extent, own)
        for n, level in enumerate(levels(grid)):
            cut = np.round(segments(without_islands(grid, level), level, extent), DECIMALS)
            lines.append({"class": k, "level": n, "segments": cut.ravel().tolist()})
    return lines
