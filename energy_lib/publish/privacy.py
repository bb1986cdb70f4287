"""The primary rule of statistical disclosure control (15/15), cell statistics and masking.

Every number the workbook publishes (a report table, the data behind a figure, an open-data file) is
a *cell*: a sum over customers (sites or meters), such as one dong's electricity use in one month.
A cell may be published only when it passes the 15/15 rule [1]_: at least 15 distinct customers,
and no single customer above 15% of the cell's total (both numbers in ``config/privacy.toml``).
Cells that fail are *primary* suppressions. :func:`cell_statistics` computes what the rule needs
from customer-level rows, along hierarchies (dong → gu → city), and :func:`primary_suppression`
applies it.

Which other cells must be withheld so that the primary ones cannot be worked out from everything
published (secondary suppression), and the audit that proves it, work on the whole release at once:
:mod:`energy_lib.publish.protection` and :mod:`energy_lib.publish.audit` (docs/privacy.md).
:func:`mask_suppressed` blanks the withheld values of a table for publication.

References
----------
.. [1] California Public Utilities Commission, Decision 14-05-016 (2014), rules to provide access
   to energy usage data while protecting privacy of personal data (the 15/15 aggregation standard).
.. [2] A. Hundepool et al., *Statistical Disclosure Control*, Wiley, 2012, chapter 4.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from energy_lib.core import configuration

__all__ = ["SuppressionRule", "Hierarchy", "cell_statistics", "combine_statistics", "primary_suppression", "mask_suppressed",
           "REASONS", "STATISTICS"]

REASONS = ("too_few_customers", "dominant_customer")
"""Why a cell fails the primary rule (``""``: it passes)."""

STATISTICS = ["customers", "total", "largest_share"]
"""Columns :func:`cell_statistics` adds and :func:`suppress` reads."""


@dataclass(frozen=True)
class SuppressionRule:
    """The 15/15 rule: which cells may be published.

    Parameters
    ----------
    min_customers : int
        Distinct customers a published cell needs [count].
    max_share : float
        Largest share of a cell's total that one customer may have [fraction]; a share equal to
        it passes.
    source : str
        Where the numbers come from.
    """

    min_customers: int
    max_share: float
    source: str = ""

    def __post_init__(self):
        if self.min_customers < 1 or not 0 < self.max_share <= 1:
            raise ValueError(f"a suppression rule needs min_customers ≥ 1 and 0 < max_share ≤ 1, not {self}")

    @classmethod
    def configured(cls) -> SuppressionRule:
        """The rule of ``config/privacy.toml`` (section ``rule``)."""
        config = configuration.load("privacy")["rule"]
        return cls(min_customers=int(config["min_customers"]), max_share=float(config["max_share"]),
                   source=config["source"])

    def failures(self, customers, largest_share) -> tuple[np.ndarray, np.ndarray]:
        """Which cells fail the rule, and why.

        Parameters
        ----------
        customers : array_like
            Distinct customers per cell [count].
        largest_share : array_like
            The largest single customer's share of the cell's total [fraction].

        Returns
        -------
        too_few, dominant : numpy.ndarray of bool
            Fewer than ``min_customers``; one customer above ``max_share``.
        """
        return (np.asarray(customers) < self.min_customers,
                np.asarray(largest_share) > self.max_share)


@dataclass(frozen=True)
class Hierarchy:
    """A dimension of a published table whose codes nest, e.g. dong → gu → city.

    The table holds the codes of every level in one column (``area``: dong codes, gu codes and
    ``"city"``); the margins of the table are the cells of the upper levels. Each code with
    children is the total of its children, for every value of the table's other key columns.

    Parameters
    ----------
    column : str
        The table's column holding the codes.
    parent : Mapping
        The parent of each code; codes without a parent are the top.
    """

    column: str
    parent: Mapping[Hashable, Hashable]

    @classmethod
    def from_levels(cls, table: pd.DataFrame, levels: Sequence[str], *, column: str | None = None,
                    top: Hashable | None = None) -> Hierarchy:
        """A hierarchy from a table with one column per level, finest first.

        Parameters
        ----------
        table : pandas.DataFrame
            E.g. the wards table (:func:`energy_lib.core.wards.wards`) with ``ward_code`` and ``gu_code``.
        levels : sequence of str
            Its level columns, finest first, e.g. ``["ward_code", "gu_code"]``.
        column : str, optional
            The published table's column of codes (default: ``levels[0]``).
        top : hashable, optional
            Code of a grand total above the last level (e.g. ``"city"``); none by default.
        """
        parent: dict[Hashable, Hashable] = {}
        for child, above in itertools.pairwise(levels):
            pairs = table[[child, above]].drop_duplicates()
            if pairs[child].duplicated().any():
                raise ValueError(f"{child} codes with more than one {above}: "
                                 f"{sorted(pairs.loc[pairs[child].duplicated(), child].unique())[:5]}")
            parent.update(zip(pairs[child], pairs[above]))
        if top is not None:
            parent.update(dict.fromkeys(table[levels[-1]].unique(), top))
        return cls(column=column or levels[0], parent=parent)

    def ladder(self, codes: pd.Series) -> list[pd.Series]:
        """The codes and their ancestors: one Series per level, from ``codes`` up to the top.

        Raises
        ------
        ValueError
            When the codes are at different depths (or unknown to the hierarchy), since a cell of
            one level would then miss the customers of the codes that reach it at another step;
            or when the hierarchy has a cycle.
        """
        ladder = [codes]
        while True:
            above = ladder[-1].map(self.parent)
            if above.isna().all():
                return ladder
            if len(ladder) > len(self.parent):
                raise ValueError(f"the hierarchy of {self.column!r} has a cycle")
            if above.isna().any():
                stuck = sorted(ladder[-1][above.isna()].astype(str).unique())[:5]
                raise ValueError(f"codes of {self.column!r} must all be at the same depth of its hierarchy; these stop "
                                 f"{len(ladder) - 1} level(s) up: {stuck}")
            ladder.append(above)


def cell_statistics(frame: pd.DataFrame, by: Sequence[str], *, value: str, customer: str,
                    margins: Sequence[Hierarchy] = (), represents: str | None = None) -> pd.DataFrame:
    """Per cell of a table, what the 15/15 rule needs, from customer-level rows.

    Parameters
    ----------
    frame : pandas.DataFrame
        Customer-level rows: a customer may have several rows in a cell (e.g. bills), which are
        summed first. Rows with a missing ``value`` are left out (the customer does not count in
        that cell).
    by : sequence of str
        The cell's key columns, e.g. ``["area", "month", "carrier"]``.
    value : str
        The quantity published [any unit, ≥ 0], e.g. ``value_canonical`` [kWh or m³].
    customer : str
        The customer's column (``site_id`` or ``meter_id``).
    margins : sequence of Hierarchy
        Dimensions whose upper levels are cells too. The rows hold the finest codes; each
        hierarchy's column is one of ``by``. Every combination of levels is computed, e.g. dong,
        gu and city × each building type and all types.
    represents : str, optional
        A column of the end customers each customer stands for [count ≥ 1; missing: 1]: a
        complex's district-heat meter stands for its households. Such a customer counts as that
        many customers, each with an equal share of its value (the complex splits its bill by the
        households' own heat meters; the workbook holds only the complex's total).

    Returns
    -------
    pandas.DataFrame
        One row per cell, sorted by ``by``: the ``by`` columns, ``customers`` (distinct customers
        [count]), ``total`` (the sum [value's unit]) and ``largest_share`` (the largest customer's
        sum / total [fraction], 0 when the total is 0). ``largest_share`` is for the rule only:
        never publish it.

    Raises
    ------
    ValueError
        On a missing key or customer, or a negative value: the dominance rule is defined for
        non-negative contributions (see the module's note on signed quantities).
    """
    by = list(by)
    _require_columns(frame, [*by, customer, value], "frame")
    if frame[[*by, customer]].isna().any().any():
        raise ValueError(f"rows with a missing {[*by, customer]} cannot be placed in a cell")
    rows = frame.loc[frame[value].notna(), [*by, customer, value, *([represents] if represents else [])]]
    if (rows[value] < 0).any():
        raise ValueError(f"{value} has negative values; suppress the table of the underlying (non-negative) use and "
                         "carry its pattern over with mask_suppressed(..., pattern=...)")
    if rows.empty:
        return pd.DataFrame({column: frame[column].iloc[:0] for column in by}).assign(
            customers=np.array([], np.int64), total=np.array([], float), largest_share=np.array([], float))
    # Integer codes throughout: a pandas groupby over text keys takes several times as long on the
    # demo city's meter-months.
    customers, values = pd.factorize(rows[customer])[0], rows[value].to_numpy(float)
    stands_for = np.ones(int(customers.max()) + 1)
    if represents:
        stands_for[customers] = rows[represents].fillna(1).clip(lower=1).to_numpy(float)
    keys = {column: pd.factorize(rows[column]) for column in by}  # (code per row, distinct values)
    ladders = [_levels(h, *keys[h.column]) for h in margins]
    tables = []
    for levels in itertools.product(*ladders):
        lifted = keys | {h.column: level for h, level in zip(margins, levels)}
        tables.append(_statistics([lifted[column] for column in by], by, customers, values, stands_for))
    return pd.concat(tables, ignore_index=True).sort_values(by, kind="stable", ignore_index=True)


def combine_statistics(partials: pd.DataFrame, by: Sequence[str], *,
                       margins: Sequence[Hierarchy] = ()) -> pd.DataFrame:
    """:func:`cell_statistics` from statistics of the finest cells instead of customer-level rows.

    Valid where every customer counts in one finest cell of each combination of the other keys
    (a meter belongs to one dong and one building type): a cell of an upper level then gathers
    whole customers, so its customers and total are the sums of its finest cells' and its largest
    customer is the largest of theirs. The store computes the finest cells
    (:func:`energy_lib.publish.aggregate.use_partials`), so that customer-level rows never reach memory.

    Parameters
    ----------
    partials : pandas.DataFrame
        The finest cells: the ``by`` columns, ``customers`` [count], ``total`` [value's unit, ≥ 0]
        and ``largest`` (the largest customer's value [value's unit]).
    by : sequence of str
        The cell's key columns.
    margins : sequence of Hierarchy
        As for :func:`cell_statistics`.

    Returns
    -------
    pandas.DataFrame
        As :func:`cell_statistics`: ``by``, ``customers``, ``total`` and ``largest_share``, sorted by ``by``.
    """
    by = list(by)
    _require_columns(partials, [*by, "customers", "total", "largest"], "partials")
    if (partials["total"] < 0).any() or (partials["largest"] < 0).any():
        raise ValueError("partials have negative values: the dominance rule is defined for non-negative contributions")
    if partials.empty:
        return pd.DataFrame({column: partials[column].iloc[:0] for column in by}).assign(
            customers=np.array([], np.int64), total=np.array([], float), largest_share=np.array([], float))
    keys = {column: pd.factorize(partials[column]) for column in by}
    ladders = [_levels(h, *keys[h.column]) for h in margins]
    measures = partials[["customers", "total", "largest"]].astype(float).reset_index(drop=True)
    tables = []
    for levels in itertools.product(*ladders):
        lifted = keys | {h.column: level for h, level in zip(margins, levels)}
        codes = pd.DataFrame({column: lifted[column][0] for column in by})
        sums = pd.concat([codes, measures], axis=1).groupby(by, sort=False).agg(
            customers=("customers", "sum"), total=("total", "sum"), largest=("largest", "max")).reset_index()
        out = pd.DataFrame({column: lifted[column][1].take(sums[column].to_numpy()) for column in by})
        out["customers"] = sums["customers"].round().astype(np.int64).to_numpy()
        out["total"] = sums["total"].to_numpy()
        out["largest_share"] = _share(sums["largest"].to_numpy(), out["total"].to_numpy())
        tables.append(out)
    return pd.concat(tables, ignore_index=True).sort_values(by, kind="stable", ignore_index=True)


def _levels(hierarchy: Hierarchy, codes: np.ndarray, distinct: pd.Index) -> list[tuple[np.ndarray, pd.Index]]:
    """A key column at every level of its hierarchy, each as (code per row, distinct values); the
    hierarchy is climbed on the distinct values only."""
    levels = []
    for level in hierarchy.ladder(pd.Series(distinct)):
        level_codes, level_distinct = pd.factorize(level)
        levels.append((level_codes[codes], level_distinct))
    return levels


def _statistics(keys: list[tuple[np.ndarray, pd.Index]], by: list[str], customers: np.ndarray,
                values: np.ndarray, stands_for: np.ndarray) -> pd.DataFrame:
    """Customers, total and largest share per cell. A customer's values in a cell are summed first:
    a cell of an upper level gathers several of the customer's finer cells (e.g. months of a year).

    One sort per call: each row's (cell, customer) pair is one integer, the cell's key columns in
    mixed radix then the customer, so that sorted pairs come grouped by cell."""
    radix = [len(distinct) for _, distinct in keys]
    customer_count = int(customers.max()) + 1
    if math.prod(radix) * customer_count >= 2 ** 63:
        raise ValueError(f"too many distinct {by} and customers to number their pairs in 64 bits")
    cell_key = np.zeros(len(customers), dtype=np.int64)
    for (codes, _), size in zip(keys, radix):
        cell_key = cell_key * size + codes
    pairs, pair = np.unique(cell_key * customer_count + customers, return_inverse=True)
    sums = np.bincount(pair, weights=values)  # per customer and cell
    pair_cell = pairs // customer_count
    starts = np.flatnonzero(np.r_[True, pair_cell[1:] != pair_cell[:-1]])
    total = np.add.reduceat(sums, starts)
    columns, remainder = {}, pair_cell[starts]
    for column, (_, distinct), size in reversed(list(zip(by, keys, radix))):
        remainder, code = np.divmod(remainder, size)
        columns[column] = distinct.take(code)
    out = pd.DataFrame({column: columns[column] for column in by})
    pair_stands_for = stands_for[pairs % customer_count]
    out["customers"] = np.add.reduceat(pair_stands_for, starts).round().astype(np.int64)
    out["total"] = total
    out["largest_share"] = _share(np.maximum.reduceat(sums / pair_stands_for, starts), total)
    return out


def _share(largest: np.ndarray, total: np.ndarray) -> np.ndarray:
    """largest / total [fraction]; 0 where the total is 0 (there is nothing to dominate)."""
    return np.divide(largest, total, out=np.zeros_like(total, dtype=float), where=total > 0)


def primary_suppression(cells: pd.DataFrame, rule: SuppressionRule | None = None) -> pd.Series:
    """Why each cell fails the 15/15 rule on its own, or ``""`` when it may be published.

    Parameters
    ----------
    cells : pandas.DataFrame
        ``customers`` [count] and ``largest_share`` [fraction] per cell (:func:`cell_statistics`).
    rule : SuppressionRule, optional
        Default: :meth:`SuppressionRule.configured`.

    Returns
    -------
    pandas.Series of str
        ``too_few_customers``, ``dominant_customer`` or ``""``, indexed like ``cells``; a cell that
        fails both is ``too_few_customers``. ``reasons != ""`` is the mask of hidden cells.
    """
    rule = rule or SuppressionRule.configured()
    _require_columns(cells, ["customers", "largest_share"], "cells")
    too_few, dominant = rule.failures(cells["customers"].to_numpy(float), cells["largest_share"].to_numpy(float))
    reasons = np.where(too_few, REASONS[0], np.where(dominant, REASONS[1], ""))
    return pd.Series(reasons, index=cells.index, name="suppression", dtype="str")


def mask_suppressed(table: pd.DataFrame, by: Sequence[str], *, values: Sequence[str],
                    pattern: pd.DataFrame | None = None) -> pd.DataFrame:
    """The publishable form of a table: hidden values blanked, a ``suppressed`` flag, nothing else.

    Parameters
    ----------
    table : pandas.DataFrame
        The table to publish, one row per ``by`` key (or several rows per key, e.g. one per unit).
    by : sequence of str
        Key columns shared with ``pattern``.
    values : sequence of str
        The columns to publish; blanked where the cell is suppressed (NaN, or ``<NA>`` for
        integer columns, which become ``Int64``).
    pattern : pandas.DataFrame, optional
        The ``by`` keys and ``suppressed`` flags that apply (default: ``table`` itself), e.g. a
        protected release's pattern (:mod:`energy_lib.publish.protection`).

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, ``values`` and ``suppressed``, in the table's row order. The reason
        is left out on purpose: telling primary from complementary cells tells a reader which
        cells hold few or dominant customers.

    Raises
    ------
    ValueError
        When a row of ``table`` has no cell in ``pattern``: every published number must have been
        assessed.
    """
    by, values = list(by), list(values)
    pattern = table if pattern is None else pattern
    _require_columns(table, [*by, *values], "table")
    _require_columns(pattern, [*by, "suppressed"], "pattern")
    published = table[[*by, *values]].merge(pattern[[*by, "suppressed"]], on=by, how="left", validate="many_to_one")
    unassessed = published["suppressed"].isna()
    if unassessed.any():
        raise ValueError(f"{int(unassessed.sum())} row(s) of the table have no cell in the suppression pattern, e.g. "
                         f"{published.loc[unassessed, by].head(3).to_dict('records')}")
    hidden = published["suppressed"].astype(bool)
    for column in values:
        if pd.api.types.is_integer_dtype(published[column]):
            published[column] = published[column].astype("Int64")
        published[column] = published[column].mask(hidden)
    published["suppressed"] = hidden
    return published


def _require_columns(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    """Raise a KeyError naming the missing columns (a caller's mistake)."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(f"{name} lacks the column(s) {missing}")
