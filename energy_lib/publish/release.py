"""The release: every published row of every table, and every relation a reader can write down.

Statistical disclosure control works on the whole release at once, never on one table at a time
(Hundepool et al. [1]_, chapter 4; sdcTable's ``protectTable`` and ``attack`` [2]_): a reader who
holds all published files can combine their rows. The release has three parts:

* **rows**: one per published row of a table (e.g. one dong's residential electricity in one
  month). A row is published or withheld as a whole; it carries the primary rule's verdict, the
  cost of withholding it and whether it may be withheld at all.
* **variables**: the row's numbers a reader could use in a sum (``total``, or ``counterfactual``,
  ``observed`` and ``savings`` of a savings row), each with its true value and its lower bound
  (0 for use, none for a signed saving). *Protected* variables are those the protection level
  applies to when their row fails the primary rule. Numbers that are a fixed multiple of another
  (kWh, toe and kgCO2eq of a total) are no variables of their own: they reveal what the total does.
* **relations**: linear equations over the variables that hold for the true values,
  :math:`\\sum_j a_{rj} x_j = 0`: a total is the sum of its parts along every published hierarchy
  (dong → gu → city, building type → sector → all types, months → 12-month totals), a saving is
  the counterfactual minus the observed use, and a number published in two tables is one number.

:mod:`energy_lib.publish.protection` decides which rows to withhold and
:mod:`energy_lib.publish.audit` attacks the result by linear programming.

References
----------
.. [1] A. Hundepool et al., *Statistical Disclosure Control*, Wiley, 2012, chapter 4.
.. [2] B. Meindl, sdcTable: methods for statistical disclosure control in tabular data, R package
   (``protectTable``, ``attack``), https://CRAN.R-project.org/package=sdcTable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = ["Table", "Release", "ReleaseBuilder", "sum_relations"]


@dataclass(frozen=True)
class Table:
    """One published table as the release sees it.

    Parameters
    ----------
    name : str
        The open-data table's name, e.g. ``consumption_monthly``.
    rows : pandas.DataFrame
        One row per published row, with the key columns ``by``, the variables' true values
        (columns named in ``variables``), ``customers`` [count of end customers], ``primary``
        (the primary rule's reason, ``""`` when the row passes), ``cost`` (of withholding it;
        larger is worse) and ``locked`` (never withheld as a complement while anything else can).
    by : list of str
        Key columns.
    variables : Mapping[str, float]
        Each variable column and its lower bound (``0.0`` for use, ``-inf`` for a signed number).
    protected : tuple of str
        The variables the protection level applies to.
    """

    name: str
    rows: pd.DataFrame
    by: list[str]
    variables: Mapping[str, float]
    protected: tuple[str, ...]


@dataclass(frozen=True)
class Release:
    """Rows, variables and relations of a whole release (see the module's docstring).

    Attributes
    ----------
    tables : dict of str to Table
        The tables, in the order added; ``row_offset[name]`` is the position of a table's first
        row in the release's rows.
    row_table, row_primary, row_cost, row_locked : numpy.ndarray
        Per release row: table name, primary reason (``""``: passes), cost, lock.
    row_series : numpy.ndarray of int
        Per row, its series: the rows of one table whose keys differ only in the period column
        (withholding the same series in several months keeps annual totals from revealing one).
    variable_row : numpy.ndarray of int
        Per variable, its row.
    variable_name : numpy.ndarray of str
        Per variable, its column name.
    value, lower : numpy.ndarray of float
        Per variable, its true value and its lower bound.
    protected : numpy.ndarray of bool
        Per variable, whether the protection level applies when its row is primary.
    relations : scipy.sparse.csr_matrix
        One row per relation over the variables, holding for the true values.
    relation_kind : numpy.ndarray of str
        What each relation expresses, e.g. ``area``, ``building_type``, ``period``, ``identity``.
    """

    tables: dict[str, Table]
    row_offset: dict[str, int]
    row_table: np.ndarray
    row_primary: np.ndarray
    row_cost: np.ndarray
    row_locked: np.ndarray
    row_series: np.ndarray
    variable_row: np.ndarray
    variable_name: np.ndarray
    value: np.ndarray
    lower: np.ndarray
    protected: np.ndarray
    relations: sp.csr_matrix
    relation_kind: np.ndarray

    @property
    def n_rows(self) -> int:
        return len(self.row_table)

    def rows_of(self, name: str) -> slice:
        """The release rows of table ``name``."""
        start = self.row_offset[name]
        return slice(start, start + len(self.tables[name].rows))

    def residual(self) -> float:
        """The largest relative residual of the relations at the true values: ~0 when every
        relation holds (a check on the builder, run by the tests)."""
        if self.relations.shape[0] == 0:
            return 0.0
        residual = np.abs(self.relations @ self.value)
        scale = np.abs(self.relations) @ np.abs(self.value)
        return float(np.max(residual / np.maximum(scale, 1e-12)))


@dataclass
class ReleaseBuilder:
    """Collects tables and relations, then freezes them into a :class:`Release`.

    ::

        builder = ReleaseBuilder()
        builder.add_table(Table("consumption_monthly", rows, by, {"total": 0.0}, ("total",)),
                          period="month")
        builder.add_relations("consumption_monthly", sum_relations(rows, by, "area", area_edges), "area")
        release = builder.build()
    """

    _tables: dict[str, Table] = field(default_factory=dict)
    _period: dict[str, str | None] = field(default_factory=dict)
    _relations: list[tuple[str, list[tuple[str, str, np.ndarray, np.ndarray, np.ndarray]]]] = field(
        default_factory=list)

    def add_table(self, table: Table, *, period: str | None = None) -> None:
        """Add a table; ``period`` names its time column (months, half-years), if any."""
        if table.name in self._tables:
            raise ValueError(f"table {table.name!r} is in the release already")
        required = [*table.by, *table.variables, "customers", "primary", "cost", "locked"]
        missing = [c for c in required if c not in table.rows.columns]
        if missing:
            raise KeyError(f"table {table.name!r} lacks the column(s) {missing}")
        if table.rows.duplicated(table.by).any():
            raise ValueError(f"table {table.name!r} has two rows with the same key {table.by}")
        unknown = set(table.protected) - set(table.variables)
        if unknown:
            raise ValueError(f"protected variables {sorted(unknown)} are not variables of {table.name!r}")
        self._tables[table.name] = Table(table.name, table.rows.reset_index(drop=True), list(table.by),
                                         dict(table.variables), tuple(table.protected))
        self._period[table.name] = period

    def add_relations(self, kind: str, terms: pd.DataFrame) -> None:
        """Add relations given as terms: ``relation`` (numbered within ``terms``), ``table``,
        ``row`` (position in the table's rows), ``variable`` and ``coefficient``."""
        self._relations.append((kind, terms))

    def build(self) -> Release:
        """The frozen release."""
        offsets, start = {}, 0
        row_table, primary, cost, locked, series = [], [], [], [], []
        variable_row, variable_name, value, lower, protected = [], [], [], [], []
        variable_index: dict[tuple[str, str], np.ndarray] = {}
        series_count = 0
        for name, table in self._tables.items():
            rows = table.rows
            offsets[name] = start
            row_table.append(np.full(len(rows), name, dtype=object))
            primary.append(rows["primary"].astype(str).to_numpy(object))
            cost.append(rows["cost"].to_numpy(float))
            locked.append(rows["locked"].to_numpy(bool))
            keys = [c for c in table.by if c != self._period[name]]
            codes = (rows.groupby(keys, sort=False, dropna=False).ngroup().to_numpy() if keys
                     else np.zeros(len(rows), dtype=np.int64))
            series.append(series_count + codes)
            series_count += int(codes.max(initial=-1)) + 1
            for column, bound in table.variables.items():
                first = sum(len(v) for v in variable_row)
                variable_index[(name, column)] = first + np.arange(len(rows))
                variable_row.append(start + np.arange(len(rows)))
                variable_name.append(np.full(len(rows), column, dtype=object))
                value.append(rows[column].to_numpy(float))
                lower.append(np.full(len(rows), float(bound)))
                protected.append(np.full(len(rows), column in table.protected))
            start += len(rows)
        n_variables = sum(len(v) for v in variable_row)
        data, row_index, column_index, kinds, count = [], [], [], [], 0
        for kind, terms in self._relations:
            if terms.empty:
                continue
            numbers = pd.factorize(terms["relation"])[0]
            columns = np.empty(len(terms), dtype=np.int64)
            for (name, column), at in terms.groupby(["table", "variable"], sort=False).indices.items():
                columns[at] = variable_index[(name, column)][terms["row"].to_numpy()[at]]
            data.append(terms["coefficient"].to_numpy(float))
            row_index.append(count + numbers)
            column_index.append(columns)
            size = int(numbers.max()) + 1
            kinds.append(np.full(size, kind, dtype=object))
            count += size
        relations = sp.csr_matrix(
            (np.concatenate(data) if data else np.array([]),
             (np.concatenate(row_index) if row_index else np.array([], np.int64),
              np.concatenate(column_index) if column_index else np.array([], np.int64))),
            shape=(count, n_variables))
        relations.sum_duplicates()
        cat = (lambda parts, dtype: np.concatenate(parts) if parts else np.array([], dtype=dtype))
        value_array = cat(value, float)
        if np.isnan(value_array).any():
            raise ValueError("a release variable has no value (NaN): fill structural zeros before building")
        release = Release(tables=dict(self._tables), row_offset=offsets, row_table=cat(row_table, object),
                          row_primary=cat(primary, object), row_cost=cat(cost, float), row_locked=cat(locked, bool),
                          row_series=cat(series, np.int64),
                          variable_row=cat(variable_row, np.int64), variable_name=cat(variable_name, object),
                          value=value_array, lower=cat(lower, float), protected=cat(protected, bool),
                          relations=relations, relation_kind=cat(kinds, object))
        # a relation that does not hold (a part left out of a table's design) would let the audit
        # prove a protection the real numbers do not have
        if release.residual() > 1e-9:
            raise ValueError(f"a relation of the release does not hold for the true values (relative residual "
                             f"{release.residual():.2e}): a table's design left out part of a total")
        return release


def sum_relations(rows: pd.DataFrame, by: Sequence[str], column: str, edges: pd.DataFrame, *,
                  table: str, variables: Sequence[str]) -> pd.DataFrame:
    """Relations "a total is the sum of its parts" along one dimension of a table.

    Parameters
    ----------
    rows : pandas.DataFrame
        The table's rows (key columns ``by``), in the table's order.
    by : sequence of str
        Key columns.
    column : str
        The dimension, one of ``by`` (e.g. ``area``, ``building_type``, ``month``).
    edges : pandas.DataFrame
        ``child`` and ``parent`` codes of that dimension; a child may have several parents (a
        month belongs to its year and to a 12-month window), a parent several children.
    table : str
        The table's name in the release.
    variables : sequence of str
        The additive variables: one relation per variable, parent and value of the other keys.

    Returns
    -------
    pandas.DataFrame
        Terms (``relation``, ``table``, ``row``, ``variable``, ``coefficient``): +1 for the total,
        −1 for each part present. A relation exists only where the total is a row and at least one
        part is; parts absent from the table hold nothing (a cell without customers is no row).
    """
    by = list(by)
    others = [c for c in by if c != column]
    position = pd.Series(np.arange(len(rows)), name="row")
    keyed = rows[by].reset_index(drop=True).assign(row=position)
    edges = edges[["child", "parent"]].drop_duplicates()
    parts = keyed.merge(edges, left_on=column, right_on="child")
    totals = keyed.rename(columns={column: "parent"})
    parts = parts.merge(totals[[*others, "parent", "row"]].rename(columns={"row": "total_row"}),
                        on=[*others, "parent"], how="inner")
    if parts.empty:
        return pd.DataFrame({"relation": [], "table": [], "row": [], "variable": [], "coefficient": []})
    parts["relation"] = parts.groupby("total_row", sort=True).ngroup()
    heads = parts.drop_duplicates("relation")[["relation", "total_row"]]
    base = pd.concat([heads.rename(columns={"total_row": "row"}).assign(coefficient=1.0),
                      parts[["relation", "row"]].assign(coefficient=-1.0)], ignore_index=True)
    count = int(base["relation"].max()) + 1
    terms = [base.assign(relation=base["relation"] + i * count, variable=variable)
             for i, variable in enumerate(variables)]
    return pd.concat(terms, ignore_index=True).assign(table=table)
