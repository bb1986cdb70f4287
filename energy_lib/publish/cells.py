"""From customer-level rows to a release table: cells, the primary rule, costs, relations.

A published table is a sum over customers along hierarchical dimensions (dong → gu → city,
building type → sector → all types) and, optionally, periods (months → 12-month totals). This
module computes every cell with :func:`energy_lib.publish.privacy.cell_statistics`, applies the primary
rule, prices each cell for the secondary suppression's cost model and writes the relations a
reader can use, for :class:`energy_lib.publish.release.ReleaseBuilder`.

Cost model (``config/privacy.toml``, section ``cost``): a cell's cost is its value times one
weight per dimension, chosen by the level of its code (a dong is cheaper than a gu, a building type
than a sector, a month than a 12-month total), so that the suppression prefers small, low-level
cells; the cells at the top of every dimension (the city, all types) are locked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from energy_lib.core import configuration
from energy_lib.publish import privacy
from energy_lib.publish.release import ReleaseBuilder, Table, sum_relations

__all__ = ["Dimension", "CostModel", "magnitude_table", "lift"]


@dataclass(frozen=True)
class Dimension:
    """A dimension of a table along which cells add up.

    Parameters
    ----------
    column : str
        The key column.
    edges : pandas.DataFrame
        ``child`` → ``parent`` codes (a child may have several parents).
    level : Mapping
        Each code's level name (e.g. ``ward``, ``gu``, ``city``), for the cost model.
    """

    column: str
    edges: pd.DataFrame
    level: Mapping
    tree: privacy.Hierarchy | None = None

    @classmethod
    def from_hierarchy(cls, hierarchy: privacy.Hierarchy, level_names: Sequence[str]) -> Dimension:
        """A tree (:class:`energy_lib.publish.privacy.Hierarchy`) with its levels named finest first."""
        parent = dict(hierarchy.parent)
        depth: dict = {}
        for code in set(parent) | set(parent.values()):
            steps, at = 0, code
            while at in parent:
                at, steps = parent[at], steps + 1
            depth[code] = steps
        top = max(depth.values(), default=0)
        if len(level_names) != top + 1:
            raise ValueError(f"the hierarchy of {hierarchy.column!r} has {top + 1} levels, not {len(level_names)}")
        # ``depth`` counts the steps up to the top: the finest codes have the most
        level = {code: level_names[top - steps] for code, steps in depth.items()}
        return cls(hierarchy.column, pd.DataFrame({"child": list(parent), "parent": list(parent.values())}), level,
                   hierarchy)


@dataclass(frozen=True)
class CostModel:
    """Weights of the cost model per dimension level (``config/privacy.toml``, ``[cost]``).

    Parameters
    ----------
    weights : Mapping of str to float
        Weight per level name (``ward``, ``gu``, ``city``, ``building_type``, ``sector``, ``all``,
        ``month``, ``twelve_months``…) or per code (``residential``), a code's weight first; one
        without either weighs 1.
    locked : Mapping of str to list of str
        Levels per dimension column: a cell at one of these levels of every such column the table
        has is locked (the city's and the gu's totals of all types, in every period).
    """

    weights: Mapping[str, float]
    locked: Mapping[str, Sequence[str]]

    @classmethod
    def configured(cls) -> CostModel:
        config = configuration.load("privacy")["cost"]
        return cls(weights={k: float(v) for k, v in config["weights"].items()}, locked=dict(config["locked"]))

    def weight(self, codes: pd.Series, levels: pd.Series) -> np.ndarray:
        """Each cell's weight in one dimension: its code's, else its level's, else 1."""
        by_level = levels.map(lambda name: self.weights.get(name, 1.0)).to_numpy(float)
        by_code = codes.astype(str).map(self.weights).to_numpy(float)
        return np.where(np.isnan(by_code), by_level, by_code)


def magnitude_table(builder: ReleaseBuilder, name: str, rows: pd.DataFrame, by: Sequence[str], *, value: str,
                    customer: str | None, dimensions: Sequence[Dimension], rule: privacy.SuppressionRule,
                    cost: CostModel, represents: str | None = None, period: str | None = None,
                    extra: Mapping[str, str] | None = None,
                    keep: Callable[[pd.DataFrame], np.ndarray] | None = None,
                    variables: Sequence[str] | None = None, protected: Sequence[str] = ("total",)) -> pd.DataFrame:
    """Add a table of sums of ``value`` over customers to the release; return its cells.

    Parameters
    ----------
    builder : ReleaseBuilder
        The release being built.
    name : str
        The table's name.
    rows : pandas.DataFrame
        Customer-level rows holding the *finest* code of every dimension and the other keys; or,
        where ``customer`` is None, the statistics of the finest cells of the trees (``customers``,
        ``total``, ``largest``; :func:`energy_lib.publish.privacy.combine_statistics`) with every code of
        the other dimensions already in them (a 12-month total beside its months).
    by : sequence of str
        The table's key columns.
    value : str
        The published quantity [≥ 0]; the protected variable ``total``.
    customer : str or None
        The customer column; None where ``rows`` are the finest cells' statistics.
    dimensions : sequence of Dimension
        The additive dimensions; every combination of their levels is a cell.
    rule : privacy.SuppressionRule
        The primary rule.
    cost : CostModel
        Weights and locks.
    represents : str, optional
        End customers each row's customer stands for (a complex's district-heat meter stands for
        its households): they count as that many customers of equal shares.
    period : str, optional
        The period column, if any (for the cost model's series discount).
    extra : Mapping of str to str, optional
        More additive variables, ``{published column: rows column}`` (e.g. counterfactual and
        observed use beside a saving), summed like ``value`` and related along every dimension;
        not protected.
    keep : callable, optional
        The table design: given the cells, which to publish at all (e.g. no dong × industrial);
        the others are no cells of the table and hold no relation.
    variables : sequence of str, optional
        The published numbers a reader can add up (default ``total`` and the extra columns): a
        column that is not published is no variable (the savings table publishes savings, not
        the observed use its rule is applied to).
    protected : sequence of str
        The variables the protection level applies to (default ``total``).

    Returns
    -------
    pandas.DataFrame
        The cells: ``by``, ``total``, the extra columns, ``customers``, ``largest_share``,
        ``primary``, ``cost`` and ``locked``, in the release's row order.
    """
    by = list(by)
    extra = dict(extra or {})
    cells = _cells(rows, by, value=value, customer=customer, dimensions=dimensions, represents=represents)
    if keep is not None:
        cells = cells[keep(cells)].reset_index(drop=True)
    for column, source in extra.items():
        sums = _sums(rows, by, source, dimensions)
        cells = cells.merge(sums.rename(columns={source: column}), on=by, how="left")
        cells[column] = cells[column].fillna(0.0)
    cells["primary"] = privacy.primary_suppression(cells, rule).to_numpy(object)
    levels = [cells[d.column].map(d.level).fillna("") for d in dimensions]
    weight = (np.prod([cost.weight(cells[d.column], level) for d, level in zip(dimensions, levels)], axis=0)
              if levels else np.ones(len(cells)))
    cells["cost"] = (cells["total"].to_numpy(float) + 1.0) * weight
    locks = [level.isin(list(cost.locked[d.column])).to_numpy() for d, level in zip(dimensions, levels)
             if d.column in cost.locked]
    cells["locked"] = np.logical_and.reduce(locks) if locks else np.zeros(len(cells), bool)
    chosen = ["total", *extra] if variables is None else list(variables)
    bounds = {column: 0.0 if column == "total" else _lower_bound(cells[column]) for column in chosen}
    builder.add_table(Table(name, cells, by, bounds, tuple(protected)), period=period)
    for dimension in dimensions:
        builder.add_relations(dimension.column, sum_relations(cells, by, dimension.column, dimension.edges, table=name,
                                                              variables=chosen))
    return cells


def _lower_bound(column: pd.Series) -> float:
    """0 for a column that is never negative by nature, else unbounded (signed savings)."""
    return 0.0 if (column >= 0).all() else -np.inf


def lift(rows: pd.DataFrame, dimensions: Sequence[Dimension]) -> pd.DataFrame:
    """Rows repeated at every ancestor of every dimension's code (a child with two parents counts
    in both)."""
    out = rows
    for dimension in dimensions:
        levels, frontier = [out], out
        while True:
            up = frontier.merge(dimension.edges, left_on=dimension.column, right_on="child", how="inner")
            if up.empty:
                break
            frontier = up.drop(columns=[dimension.column, "child"]).rename(columns={"parent": dimension.column})
            levels.append(frontier)
        out = pd.concat(levels, ignore_index=True)
    return out


def _cells(rows: pd.DataFrame, by: list[str], *, value: str, customer: str | None, dimensions: Sequence[Dimension],
           represents: str | None) -> pd.DataFrame:
    """Per cell: customers (end customers, counting what each stands for), total and largest share.
    Trees are climbed inside :func:`energy_lib.publish.privacy.cell_statistics` on integer codes; only the
    other dimensions (a month in two 12-month totals) repeat rows."""
    trees = [d.tree for d in dimensions if d.tree is not None]
    if customer is None:
        return privacy.combine_statistics(rows.rename(columns={value: "total"}), by, margins=trees)
    others = [d for d in dimensions if d.tree is None]
    lifted = lift(rows[[*by, customer, value, *([represents] if represents else [])]], others)
    return privacy.cell_statistics(lifted, by, value=value, customer=customer, margins=trees, represents=represents)


def _sums(rows: pd.DataFrame, by: list[str], source: str, dimensions: Sequence[Dimension]) -> pd.DataFrame:
    lifted = lift(rows[[*by, source]], dimensions)
    return lifted.groupby(by, sort=True, observed=True)[source].sum().reset_index()
