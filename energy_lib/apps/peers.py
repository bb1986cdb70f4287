"""Comparison with similar households ("my savings"): peer groups and the two figures a household
is shown, computed so that no figure is, or gives away, one household's use.

A household is compared with the finest of five groups of similar households (same building type
and floor-area band: in its dong, its dong and the nearest dongs, its gu, the city; then the
city's households of its type) that has at least the publishing rule's minimum of households
(:meth:`energy_lib.publish.privacy.SuppressionRule.configured`, 15). Of that group it sees two figures:

* the **typical neighbour**: the mean use of the households ranked in the middle band (40th–60th
  percentile by default);
* the **efficient neighbours**: the mean use of the households ranked in the efficient band (the
  10th–30th percentile from the lowest use).

A median or a quantile of a group is one household's exact use whenever the group has an odd
size or ties (the old figures equalled a household's use in 1,402 groups of the demo city). A
band mean over at least three households is not, and a reader who knows one member's use learns
only the sum of the others; rounding to two significant digits blurs that sum too. A rounded mean
that still equals some member's value (integer m³ of water, ties) is moved to the next rounding
step, so no published figure is any member's value. Groups, or values, with fewer households than
the minimum publish nothing. Every parameter is in ``config/privacy.toml`` (section ``peers``).

References
----------
.. [1] H. Allcott, "Social norms and energy conservation", *Journal of Public Economics* 95(9-10),
   1082-1095, 2011: Opower's Home Energy Report compares a household with about 100 neighbours of
   similar size and heating type, their mean and their 20th percentile ("efficient neighbors").
.. [2] A. Hundepool et al., *Statistical Disclosure Control*, Wiley, 2012, chapter 4 (magnitude
   tables: the minimum-frequency rule of at least 3 contributors, the p% rule, rounding).
.. [3] California Public Utilities Commission, Decision 14-05-016 (2014): the 15/15 rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from energy_lib.core import configuration
from energy_lib.publish.privacy import SuppressionRule

__all__ = ["LEVELS", "FIGURES", "JUDGEMENTS", "PeerSettings", "band_mean", "round_significant", "group_statistics",
           "assign_groups", "judge", "group_members", "exposures"]

LEVELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("dong", ("ward_code", "building_type", "size_band")),
    ("neighbours", ("centre", "building_type", "size_band")),
    ("gu", ("gu_code", "building_type", "size_band")),
    ("city", ("building_type", "size_band")),
    ("city_type", ("building_type",)),
)
"""Peer-group levels, finest first, with the columns that key a group (``centre``: the dong whose
neighbourhood it is)."""

FIGURES = ("typical", "efficient")
"""The published figures of a peer group (``<value>_typical``, ``<value>_efficient``)."""

JUDGEMENTS = ("great", "good", "could_save_more")

_SAME = 1e-9
"""Relative tolerance under which a published figure counts as a member's value [fraction]: rounding
in binary floating point (3.0000000000000004) must not hide an equal value."""


@dataclass(frozen=True)
class PeerSettings:
    """How similar households are grouped and what of a group is published.

    Attributes
    ----------
    min_households : int
        Smallest group, and fewest households with a value, for which figures are published (the
        publishing rule's minimum) [households].
    typical_band : tuple of float
        Lower and upper rank of the typical neighbour's band, as fractions of the group ordered by
        use (0.4, 0.6: the middle fifth) [fraction].
    efficient_band : tuple of float
        The same for the efficient neighbours (0.1, 0.3: the best 10–30%, lowest use first) [fraction].
    min_band_households : int
        Fewest households a band's mean is published over [households].
    significant_digits : int
        Published figures are rounded to this many significant digits.
    neighbours : int
        Nearest other dongs (by representative point) added when a dong alone is too small.
    area_bands_m2 : tuple of float
        Upper bounds of the floor-area bands [m²]; households without a floor area form their own band.
    months : int
        Months of bills behind the yearly use [months].
    source : str
        Where the numbers come from.
    """

    min_households: int
    typical_band: tuple[float, float]
    efficient_band: tuple[float, float]
    min_band_households: int
    significant_digits: int
    neighbours: int
    area_bands_m2: tuple[float, ...]
    months: int
    source: str = ""

    def __post_init__(self) -> None:
        if self.min_band_households < 2:
            raise ValueError("a band of one household publishes that household's use: min_band_households must be ≥ 2")
        for name in ("typical_band", "efficient_band"):
            low, high = getattr(self, name)
            if not 0.0 <= low < high <= 1.0:
                raise ValueError(f"{name} must be two fractions 0 ≤ low < high ≤ 1, not {(low, high)}")
            # every group of the minimum size must fill the band, else groups just at the minimum publish nothing
            if _band_size(self.min_households, low, high) < self.min_band_households:
                raise ValueError(f"{name} {(low, high)} of a group of {self.min_households} households holds fewer "
                                 f"than {self.min_band_households}: widen the band or raise the minimum")
        if self.significant_digits < 1:
            raise ValueError("significant_digits must be at least 1")

    @classmethod
    def configured(cls) -> PeerSettings:
        """The settings of ``config/privacy.toml``: the rule's ``min_customers`` and section ``peers``."""
        peers = configuration.load("privacy")["peers"]
        return cls(min_households=SuppressionRule.configured().min_customers,
                   typical_band=tuple(float(v) for v in peers["typical_band"]),
                   efficient_band=tuple(float(v) for v in peers["efficient_band"]),
                   min_band_households=int(peers["min_band_households"]),
                   significant_digits=int(peers["significant_digits"]), neighbours=int(peers["neighbours"]),
                   area_bands_m2=tuple(float(v) for v in peers["area_bands_m2"]), months=int(peers["months"]),
                   source=str(peers["source"]))

    def band(self, figure: str) -> tuple[float, float]:
        """The rank band of ``typical`` or ``efficient`` [fraction]."""
        return self.typical_band if figure == "typical" else self.efficient_band


def _first_rank(n, fraction: float):
    """Position (0-based, in ascending order) of the first household at or above rank ``fraction``
    of ``n``: ⌈fraction·n⌉, robust to 0.4·15 = 6.000000000000001."""
    return np.ceil(np.round(np.asarray(n, dtype=float) * fraction, 9)).astype(np.int64)


def _band_size(n, low: float, high: float):
    """Households ranked in ``[low, high)`` of a group of ``n`` [households]."""
    return _first_rank(n, high) - _first_rank(n, low)


def band_mean(frame: pd.DataFrame, keys: list[str], value: str, band: tuple[float, float]) -> pd.DataFrame:
    """Mean of ``value`` over the households ranked in ``band`` of each group of ``keys``.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per household (and group) with ``keys`` and ``value``; NaN values are left out.
    keys : list of str
    value : str
        E.g. yearly use [kWh or m³] or emissions [kgCO2eq].
    band : (float, float)
        Ranks ``[low, high)`` as fractions of the group's households with a value, ordered by
        ``value`` ascending [fraction].

    Returns
    -------
    pandas.DataFrame
        Indexed by ``keys``: ``mean`` [unit of ``value``] and ``households`` in the band (groups
        whose band is empty are absent).

    Notes
    -----
    With :math:`n` households ordered :math:`x_{(0)} \\le \\dots \\le x_{(n-1)}`, the band holds
    positions :math:`\\lceil l n \\rceil \\le i < \\lceil h n \\rceil`; ties do not matter (equal
    values are interchangeable).
    """
    known = frame[frame[value].notna()].sort_values([*keys, value], kind="stable")
    grouped = known.groupby(keys, sort=False, observed=True)
    position = grouped.cumcount().to_numpy()
    n = grouped[value].transform("size").to_numpy()
    inside = (position >= _first_rank(n, band[0])) & (position < _first_rank(n, band[1]))
    return known[inside].groupby(keys, sort=False, observed=True)[value].agg(mean="mean", households="size")


def round_significant(values, digits: int) -> tuple[np.ndarray, np.ndarray]:
    """Values rounded to ``digits`` significant digits, and the rounding step of each.

    Parameters
    ----------
    values : array_like
        Non-negative figures [any unit]; NaN stays NaN.
    digits : int

    Returns
    -------
    rounded, step : numpy.ndarray
        ``step`` is :math:`10^{\\lfloor \\log_{10} |x| \\rfloor - d + 1}` (1 for 0) [unit of ``values``].
    """
    x = np.asarray(values, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        magnitude = np.floor(np.log10(np.abs(x)))
    step = np.where(np.isfinite(magnitude), 10.0 ** (magnitude - digits + 1), 1.0)
    return np.round(x / step) * step, step


def _hits(members: pd.DataFrame, figures: pd.DataFrame, keys: list[str], value: str, figure: str) -> pd.Series:
    """Per group of ``figures`` (indexed by ``keys``): whether ``figure`` equals some member's ``value``."""
    both = members[[*keys, value]].dropna().merge(figures[[figure]].dropna().reset_index(), on=keys)
    same = np.isclose(both[value].to_numpy(), both[figure].to_numpy(), rtol=_SAME, atol=0.0)
    found = pd.Series(same, index=pd.MultiIndex.from_frame(both[keys]) if len(keys) > 1 else pd.Index(both[keys[0]]))
    return found.groupby(level=list(range(len(keys)))).any().reindex(figures.index, fill_value=False)


def _publishable(members: pd.DataFrame, keys: list[str], value: str, mean: pd.Series, digits: int) -> pd.Series:
    """``mean`` rounded to ``digits`` significant digits, moved to the nearest other rounding step
    (nearer side first, never below 0) where it equals a member's ``value``."""
    rounded, step = round_significant(mean.to_numpy(), digits)
    toward = np.where(mean.to_numpy() >= rounded, 1.0, -1.0)  # the second-nearest step is on the mean's side
    figure = pd.DataFrame({"figure": rounded}, index=mean.index)
    tries = np.zeros(len(figure), dtype=np.int64)
    pending = np.ones(len(figure), dtype=bool)
    while pending.any():  # a handful of passes: each moves only the groups that still hit a member
        below = (figure["figure"].to_numpy() < 0) & (mean.to_numpy() >= 0)  # use is never negative
        hit = _hits(members, figure[pending], keys, value, "figure").to_numpy() | below[pending]
        rows = np.flatnonzero(pending)[hit]
        pending[:] = False
        pending[rows] = True
        tries[rows] += 1
        # offsets 0, +1, −1, +2, −2, … steps, the first towards the unrounded mean
        k = tries[rows]
        offset = np.where(k % 2 == 1, 1.0, -1.0) * toward[rows] * ((k + 1) // 2)
        figure.iloc[rows, 0] = rounded[rows] + offset * step[rows]
    return pd.Series(_clean(figure["figure"].to_numpy(), step), index=figure.index)


def _clean(values: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Multiples of ``step`` without binary noise (0.30000000000000004 → 0.3): rounded to the
    step's decimals, one pass per distinct number of decimals."""
    decimals = np.maximum(0, -np.floor(np.log10(step) + 1e-9)).astype(np.int64)
    out = values.copy()
    for d in np.unique(decimals):
        rows = decimals == d
        out[rows] = np.round(values[rows], int(d))
    return out


def group_statistics(frame: pd.DataFrame, keys: list[str], values: list[str], settings: PeerSettings) -> pd.DataFrame:
    """The published figures of every group of ``keys``.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per household and group: ``keys`` and ``values`` (NaN where a household has no
        comparable value) [kWh, m³ or kgCO2eq].
    keys : list of str
    values : list of str
    settings : PeerSettings

    Returns
    -------
    pandas.DataFrame
        One row per group: ``keys``, ``households``, and per value ``<v>_n`` (households with a
        value) and ``<v>_typical``, ``<v>_efficient`` [unit of the value]: NaN where the group or its
        value has fewer than ``min_households`` households or a band fewer than
        ``min_band_households``; never equal to a member's value.
    """
    grouped = frame.groupby(keys, sort=False, observed=True)
    out = grouped.size().rename("households").to_frame()
    for v in values:
        out[f"{v}_n"] = grouped[v].count()
        # only groups with enough households, and enough of them with this value, publish a figure
        enough = np.minimum(grouped[v].transform("size"), grouped[v].transform("count")) >= settings.min_households
        members = frame.loc[enough.to_numpy(), [*keys, v]]
        for figure in FIGURES:
            band = band_mean(members, keys, v, settings.band(figure))
            band = band[band["households"] >= settings.min_band_households]
            out[f"{v}_{figure}"] = _publishable(members, keys, v, band["mean"], settings.significant_digits) \
                if len(band) else np.nan
    return out.reset_index()


def group_members(homes: pd.DataFrame, pairs: pd.DataFrame, level: str) -> tuple[pd.DataFrame, list[str]]:
    """The households of every group of ``level`` (a household is in the neighbourhood of every
    dong it neighbours), with the level's key columns; and those columns.

    Parameters
    ----------
    homes : pandas.DataFrame
        One row per household with ``ward_code``, ``gu_code``, ``building_type``, ``size_band``.
    pairs : pandas.DataFrame
        ``centre``, ``ward_code``: each dong with itself and its nearest dongs.
    level : str
        A name of :data:`LEVELS`.
    """
    keys = list(dict(LEVELS)[level])
    if level == "neighbours":
        return homes.merge(pairs, on="ward_code"), keys
    return homes, keys


def _group_key(frame: pd.DataFrame, level: str, keys: list[str]) -> pd.Series:
    """``level:key|key…`` of every row: the group's name in the index (``peer_key``)."""
    parts = [frame[k].astype("string") for k in keys]
    joined = parts[0].str.cat(parts[1:], sep="|") if len(parts) > 1 else parts[0]
    return level + ":" + joined


def assign_groups(homes: pd.DataFrame, pairs: pd.DataFrame, values: list[str], settings: PeerSettings) -> pd.DataFrame:
    """Each household's peer group: the first level of :data:`LEVELS` whose group has at least
    ``min_households`` households, and that group's figures.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``homes``: ``households``, per value ``<v>_n``, ``<v>_typical``,
        ``<v>_efficient`` (NaN for a household in no group, or where its value's figures are
        withheld), ``peer_level`` and ``peer_key`` (null without a group).
    """
    stat_columns = ["households"] + [f"{v}_{s}" for v in values for s in ("n", *FIGURES)]
    chosen = pd.DataFrame(np.nan, index=homes.index, columns=stat_columns)
    level = pd.Series(pd.NA, index=homes.index, dtype="string")
    key = pd.Series(pd.NA, index=homes.index, dtype="string")
    for name, _ in LEVELS:  # five levels, each vectorised over the city
        members, keys = group_members(homes[["ward_code", "gu_code", "building_type", "size_band", *values]], pairs, name)
        stats = group_statistics(members, keys, values, settings)
        # a household's own group of the level: its neighbourhood is the one centred on its dong
        mine = homes.assign(centre=homes["ward_code"])[keys].merge(stats, on=keys, how="left")
        mine.index = homes.index
        take = level.isna() & (mine["households"] >= settings.min_households)
        chosen.loc[take, stat_columns] = mine.loc[take, stat_columns].to_numpy(dtype=float)
        level[take] = name
        key[take] = _group_key(mine[take], name, keys)
    chosen["households"] = chosen["households"].astype("Int64")
    return chosen.assign(peer_level=level, peer_key=key)


def judge(value: pd.Series, typical: pd.Series, efficient: pd.Series) -> pd.Series:
    """``great`` (at or below the efficient neighbours' figure), ``good`` (at or below the
    typical neighbour's), ``could_save_more`` (above it); null where there is no comparison.

    The figures are the published (rounded) ones, so the words agree with the numbers the page
    shows [unit of ``value``].
    """
    label = np.select([value <= efficient, value <= typical, value > typical], list(JUDGEMENTS), default="")
    return pd.Series(label, index=value.index, dtype="string").replace("", pd.NA)


def exposures(homes: pd.DataFrame, pairs: pd.DataFrame, figures: dict[str, dict[str, str]]) -> pd.DataFrame:
    """How many published peer groups show a figure equal to one of their members' values.

    An audit of an index (:func:`energy_lib.apps.household.build_index`), independent of how the
    figures were made: the members of each published group (``peer_key``) are found again from
    their ward, gu, building type and size band.

    Parameters
    ----------
    homes : pandas.DataFrame
        One row per household: ``peer_key``, ``ward_code``, ``gu_code``, ``building_type``,
        ``size_band``, each value column and each figure column.
    pairs : pandas.DataFrame
        ``centre``, ``ward_code`` (as for :func:`assign_groups`).
    figures : dict
        ``{value column: {figure name: figure column}}``, e.g. ``{"kgco2eq_12m": {"typical":
        "peer_typical_kgco2eq"}}``.

    Returns
    -------
    pandas.DataFrame
        One row per value and figure: ``value``, ``figure``, ``groups`` (published groups with
        that figure) and ``exposed`` (groups where it equals a member's value).
    """
    published = homes.dropna(subset=["peer_key"]).drop_duplicates("peer_key")
    places = homes[["ward_code", "gu_code", "building_type", "size_band", *figures]]
    member_keys = []
    for name, _ in LEVELS:
        members, keys = group_members(places, pairs, name)
        member_keys.append(members.assign(peer_key=_group_key(members, name, keys))[["peer_key", *figures]])
    members = pd.concat(member_keys, ignore_index=True)
    rows = []
    for value, named in figures.items():
        for figure, column in named.items():
            shown = published[["peer_key", column]].dropna()
            both = members[["peer_key", value]].dropna().merge(shown, on="peer_key")
            same = np.isclose(both[value].to_numpy(), both[column].to_numpy(), rtol=_SAME, atol=0.0)
            rows.append({"value": value, "figure": figure, "groups": len(shown),
                         "exposed": int(both.loc[same, "peer_key"].nunique())})
    return pd.DataFrame(rows)
