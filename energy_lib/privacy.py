"""Statistical disclosure control of published tables: the 15/15 rule and complementary suppression.

Every number the workbook publishes (a report table, the data behind a figure, an open-data file) is
a *cell*: a sum over customers (sites or meters), such as one dong's electricity use in one month.
A cell is published only when it passes the 15/15 rule [1]_: at least 15 distinct customers, and no
single customer above 15% of the cell's total (both numbers in ``config/privacy.toml``). Cells that
fail are hidden: *primary suppression*.

Published tables have margins (dongs add up to their gu, gus to the city, building types to "all
types"), so a hidden cell could be recovered by subtraction: gu total minus the gu's published
dongs. *Complementary suppression* hides more cells until no additive relation of the table gives
a hidden cell away [2]_, [3]_.

A ward × month × carrier table with gu and city totals, from one row per meter and month::

    area = privacy.Hierarchy.from_levels(wards.wards(), ["ward_code", "gu_code"], top="city", column="area")
    by = ["area", "month", "carrier"]
    cells = privacy.cell_statistics(rows.rename(columns={"ward_code": "area"}), by,
                                    value="value_canonical", customer="meter_id", margins=[area])
    cells = privacy.suppress(cells, by, margins=[area])
    published = privacy.mask_suppressed(cells, by, values=["total"])

Signed quantities (savings, net use) have no dominance rule of their own: suppress the table of
the underlying use and carry its pattern over, ``mask_suppressed(savings_table, by, values=[...],
pattern=cells)``.

References
----------
.. [1] California Public Utilities Commission, Decision 14-05-016 (2014), rules to provide access
   to energy usage data while protecting privacy of personal data (the 15/15 aggregation standard).
.. [2] A. Hundepool et al., *Statistical Disclosure Control*, Wiley, 2012, chapter 4 (magnitude
   tables: sensitivity rules, secondary cell suppression, hierarchical tables).
.. [3] L. H. Cox, "Suppression methodology and statistical disclosure control", *Journal of the
   American Statistical Association* 75(370), 377-385, 1980.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from energy_lib import configuration

__all__ = ["SuppressionRule", "Hierarchy", "cell_statistics", "primary_suppression", "suppress", "mask_suppressed",
           "REASONS", "STATISTICS"]

REASONS = ("too_few_customers", "dominant_customer", "complementary")
"""Values of the ``suppression`` column besides ``""`` (published)."""

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
            E.g. the wards table (:func:`energy_lib.wards.wards`) with ``ward_code`` and ``gu_code``.
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


@dataclass(frozen=True)
class _Relations:
    """The additive relations of a table (``total = Σ members``) as arrays over cell positions.

    Memberships are sorted by relation, then by the order in which members are hidden as
    complements (ascending total, ties in key order), so that a relation's candidates are a
    contiguous, ordered run.
    """

    total_cell: np.ndarray         # [relations] position of the relation's total
    member_relation: np.ndarray    # [memberships] the relation
    member_cell: np.ndarray        # [memberships] position of the member
    member_customers: np.ndarray   # [memberships] the member's customers [count]
    member_total: np.ndarray       # [memberships] its total [value's unit]
    member_largest: np.ndarray     # [memberships] its largest customer's sum [value's unit]


def _memberships(cells: pd.DataFrame, by: list[str], hierarchy: Hierarchy) -> pd.DataFrame:
    """One hierarchy's relations: each cell whose code has a parent is a member of the relation
    (parent code, other keys); each cell whose code has children is the total of (its code, other
    keys). Returns ``relation`` (numbered from 0), ``cell`` (position) and ``is_total``."""
    others = [c for c in by if c != hierarchy.column]
    codes = cells[hierarchy.column]
    parent = codes.map(hierarchy.parent)
    is_member = parent.notna().to_numpy()
    is_total = codes.isin(set(hierarchy.parent.values())).to_numpy()
    position = np.arange(len(cells))
    link = pd.concat([
        cells.loc[is_member, others].assign(head=parent[is_member], cell=position[is_member], is_total=False),
        cells.loc[is_total, others].assign(head=codes[is_total], cell=position[is_total], is_total=True),
    ], ignore_index=True)
    link["relation"] = link.groupby(["head", *others], observed=True, sort=False, dropna=False).ngroup()
    return link[["relation", "cell", "is_total"]]


def _relations(cells: pd.DataFrame, by: list[str], margins: Sequence[Hierarchy]) -> _Relations:
    """Every relation of every margin. A relation counts only when its total is one of the cells
    (an unpublished total gives nothing away) and it has at least one member."""
    relation, cell, is_total, count = [np.array([], np.int64)], [np.array([], np.int64)], [np.array([], bool)], 0
    for hierarchy in margins:
        link = _memberships(cells, by, hierarchy)
        relation.append(count + link["relation"].to_numpy())
        cell.append(link["cell"].to_numpy())
        is_total.append(link["is_total"].to_numpy(bool))
        count += int(link["relation"].max()) + 1 if len(link) else 0
    relation, cell, is_total = np.concatenate(relation), np.concatenate(cell), np.concatenate(is_total)
    totals = np.bincount(relation, weights=is_total, minlength=count)
    members = np.bincount(relation, weights=~is_total, minlength=count)
    kept = (totals[relation] == 1) & (members[relation] > 0)
    relation = np.unique(relation[kept], return_inverse=True)[1]
    cell, is_total = cell[kept], is_total[kept]

    total_cell = np.empty(relation.max(initial=-1) + 1, dtype=np.int64)
    total_cell[relation[is_total]] = cell[is_total]
    customers = cells["customers"].to_numpy(float)
    total = cells["total"].to_numpy(float)
    largest = cells["largest_share"].to_numpy(float) * total
    key_rank = np.empty(len(cells), dtype=np.int64)  # ties broken by key, not by row order
    key_rank[cells.sort_values(by, kind="stable").index.to_numpy()] = np.arange(len(cells))
    member_relation, member_cell = relation[~is_total], cell[~is_total]
    order = np.lexsort((key_rank[member_cell], total[member_cell], member_relation))
    member_relation, member_cell = member_relation[order], member_cell[order]
    return _Relations(total_cell=total_cell, member_relation=member_relation, member_cell=member_cell,
                      member_customers=customers[member_cell], member_total=total[member_cell],
                      member_largest=largest[member_cell])


def suppress(cells: pd.DataFrame, by: Sequence[str], *, margins: Sequence[Hierarchy] = (),
             rule: SuppressionRule | None = None) -> pd.DataFrame:
    """Which cells of a table to hide: primary suppression by the 15/15 rule, then complementary
    suppression until no hidden cell can be recovered from a published total.

    Parameters
    ----------
    cells : pandas.DataFrame
        Every cell of the table including its margins, one row per ``by`` key, with ``customers``
        [count], ``total`` [value's unit, ≥ 0] and ``largest_share`` [fraction]
        (:func:`cell_statistics` with the same ``margins``).
    by : sequence of str
        The key columns. Those that are not a hierarchy's column (month, carrier) split the table
        into independent tables with no total across them.
    margins : sequence of Hierarchy
        The table's additive dimensions (see Notes).
    rule : SuppressionRule, optional
        Default: :meth:`SuppressionRule.configured`.

    Returns
    -------
    pandas.DataFrame
        ``cells`` with ``suppressed`` (bool) and ``suppression``: ``too_few_customers``,
        ``dominant_customer``, ``complementary`` or ``""`` (published).

    Raises
    ------
    ValueError
        When two cells have the same key.

    Notes
    -----
    Each hierarchy gives one *relation* per code with children and per value of the other key
    columns: :math:`x_{total} = \\sum_i x_i` over the children present in ``cells`` (cells not in the
    table count as empty). A relation whose total is not among the cells is no relation.
    With :math:`H` the hidden members of a relation, it is *safe* when

    - the total is published, and :math:`H` is empty or has at least two cells that, taken
      together, pass the rule themselves. Their sum is disclosed (the total minus the published
      members); customers of sibling cells are distinct, so :math:`H` has the sum of their
      customers, and its largest customer is the largest of the members' largest customers;
    - the total is hidden, and :math:`H` is not empty (else the total is the sum of the published
      members).

    An unsafe relation hides its published members in ascending order of total, ties broken by
    key order, until :math:`H` is *enough*: at least two cells (one under a hidden total) that
    pass the rule together; or until every member is hidden. The smallest first hides the least of
    the published quantity; asking the hidden cells to pass the rule together is what keeps a tiny
    complement from leaving the primary cell almost exactly recoverable (total − published members
    ≈ the primary cell), and is what the utilities do when a group fails: aggregate it further (reference [1]).
    A relation never hides its own total: totals are the most used numbers, and hiding one spreads
    to the level above. Hiding a cell can make another relation unsafe (the other dimension of a
    two-way table, the level above or below), so this repeats, over all relations at once, until
    no relation is unsafe; cells are only ever added, so it ends.

    The result does not depend on the order of the rows. The conditions are checked one relation
    at a time: they are what the subtraction of published cells from a published total can
    reveal, but combining several relations can still narrow a hidden cell in some patterns of
    two-way tables. The exact audit solves a linear programme per hidden cell (reference [2], chapter 4).
    """
    rule = rule or SuppressionRule.configured()
    by = list(by)
    _require_columns(cells, [*by, *STATISTICS], "cells")
    if cells.duplicated(by).any():
        duplicated = cells.loc[cells.duplicated(by), by].head(3).to_dict("records")
        raise ValueError(f"cells must have one row per {by}; duplicated: {duplicated}")
    table = cells.reset_index(drop=True)
    reasons = primary_suppression(table, rule).to_numpy(object)
    relations = _relations(table, by, margins)
    hidden = reasons != ""
    while (complements := _complements(hidden, relations, rule)).any():
        hidden |= complements
    out = cells.copy()
    out["suppressed"] = hidden
    out["suppression"] = pd.array(np.where(hidden & (reasons == ""), REASONS[2], reasons), dtype="str")
    return out


def _complements(hidden: np.ndarray, relations: _Relations, rule: SuppressionRule) -> np.ndarray:
    """The cells to hide next: in each unsafe relation, its published members in order, up to the
    first with which the hidden members are enough (see :func:`suppress`, Notes)."""
    r = relations
    count = len(r.total_cell)
    member_hidden = hidden[r.member_cell]
    weights = member_hidden.astype(float)
    hidden_members = np.bincount(r.member_relation, weights=weights, minlength=count)
    hidden_customers = np.bincount(r.member_relation, weights=r.member_customers * weights, minlength=count)
    hidden_total = np.bincount(r.member_relation, weights=r.member_total * weights, minlength=count)
    hidden_largest = np.zeros(count)
    np.maximum.at(hidden_largest, r.member_relation[member_hidden], r.member_largest[member_hidden])
    total_hidden = hidden[r.total_cell]
    needed = np.where(total_hidden, 1, 2)  # hidden members that, passing the rule together, make a relation safe

    def enough(members, customers, total, largest, needed):
        too_few, dominant = rule.failures(customers, _share(largest, total))
        return (members >= needed) & ~too_few & ~dominant

    is_enough = enough(hidden_members, hidden_customers, hidden_total, hidden_largest, needed)
    unsafe = np.where(total_hidden, hidden_members == 0, (hidden_members > 0) & ~is_enough)

    candidate = unsafe[r.member_relation] & ~member_hidden
    relation = r.member_relation[candidate]
    within = pd.DataFrame({"one": 1.0, "customers": r.member_customers[candidate], "total": r.member_total[candidate],
                           "largest": r.member_largest[candidate]}).groupby(relation, sort=False)
    running = within[["one", "customers", "total"]].cumsum()  # if the candidates so far were hidden too
    reaches = enough(hidden_members[relation] + running["one"].to_numpy(),
                     hidden_customers[relation] + running["customers"].to_numpy(),
                     hidden_total[relation] + running["total"].to_numpy(),
                     np.maximum(hidden_largest[relation], within["largest"].cummax().to_numpy()), needed[relation])
    reached_before = pd.Series(reaches).groupby(relation, sort=False).cumsum().to_numpy() - reaches > 0
    complements = np.zeros_like(hidden)
    complements[r.member_cell[candidate][~reached_before]] = True
    return complements


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
        A result of :func:`suppress` whose ``suppressed`` flags apply (default: ``table`` itself),
        e.g. the use table's pattern for a savings table with the same cells.

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
