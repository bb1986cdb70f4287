"""The "my savings" household lookup: one household's use, savings, Carbon Point outlook and
comparison with similar households nearby, behind a customer number and a personal energy code.

Three parts:

* **Codes.** The city issues each household a personal energy code. Only a slow, salted and
  keyed hash of it (scrypt, :func:`energy_lib.core.personal_codes.code_hash`) is ever stored.
* **Index.** :func:`build_index` precomputes, for every household at once, everything the page
  shows, into one Parquet file keyed by the household's electricity meter pseudonym.
* **Lookup.** :class:`Lookup` loads the index once and answers :meth:`Lookup.find` in
  milliseconds, with one refusal for "no such customer" and "wrong code" and a slowdown after
  repeated failures, kept in a SQLite file next to the index so that every Voila kernel (a process
  each) and every restart sees the same failures. Failures count per client (the visiting
  browser, :func:`energy_lib.apps.client.client_key`), so that a stranger who knows a neighbour's
  customer number slows down only themselves (:class:`ThrottleSettings`).

The customer number a citizen enters is the electricity customer number on the KEPCO bill
(고객번호): every household has one, and the site it belongs to links the gas and water meters.
"""

from __future__ import annotations

import contextlib
import secrets
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from energy_lib.apps import peers
from energy_lib.apps.peers import PeerSettings
from energy_lib.baselines.carbon_point import MonthlyUsage, carbon_point, reduction_tier
from energy_lib.baselines.data import billing_month
from energy_lib.core import i18n, keys, units
from energy_lib.core.identity import pseudonyms
from energy_lib.core.personal_codes import code_hash, parse_hash, verify_code
from energy_lib.ingest.formats import default_provider
from energy_lib.store import Store

__all__ = ["customer_pseudonym",
           "PeerSettings", "build_index", "ThrottleSettings", "CarrierView", "HouseholdView", "Refused",
           "Lookup", "tips"]

CARRIERS = ("electricity", "gas", "water")
HOUSEHOLD_TYPES = ("apartment", "detached")
_METHOD_PRIORITY = {"caltrack_billing": 0, "caltrack_daily": 1, "towt": 2}  # bills first: what households have


def _normalise_account(account: str) -> str:
    """A customer number as typed → as on the bill: without spaces and hyphens."""
    return "".join(str(account).split()).replace("-", "")


def customer_pseudonym(accounts: pd.Series) -> pd.Series:
    """The electricity meter ids (:func:`energy_lib.core.identity.pseudonyms`) of customer numbers."""
    accounts = accounts.astype(str).map(_normalise_account)
    provider = default_provider("electricity")
    return pseudonyms("meter", pd.Series(provider, index=accounts.index),
                      pd.Series("electricity", index=accounts.index), accounts)


# --- the index ---------------------------------------------------------------------------------------

def _households(store: Store) -> pd.DataFrame:
    """One row per household site (``households`` = 1, apartment or detached) with its meters:
    ``site_id``, ``ward_code``, ``gu_code``, ``building_type``, ``floor_area_m2`` and
    ``<carrier>_meter`` (the site's first meter of each carrier, by id)."""
    frame = store.sql("""
        SELECT s.site_id, s.ward_code, w.gu_code, s.building_type, s.floor_area_m2, m.carrier, min(m.meter_id) AS meter_id
        FROM sites s JOIN meters m USING (site_id) LEFT JOIN wards w USING (ward_code)
        WHERE s.households = 1 AND s.building_type IN ('apartment', 'detached') AND m.carrier IN ('electricity', 'gas', 'water')
        GROUP BY ALL""")
    wide = frame.pivot(index="site_id", columns="carrier", values="meter_id").reindex(columns=list(CARRIERS))
    wide.columns = [f"{c}_meter" for c in wide.columns]
    sites = frame.drop_duplicates("site_id").set_index("site_id")[["ward_code", "gu_code", "building_type", "floor_area_m2"]]
    out = sites.join(wide).reset_index()
    return out[out["electricity_meter"].notna()].reset_index(drop=True)  # the customer number is the electricity one


def _monthly(store: Store, months: int) -> tuple[pd.DataFrame, pd.Timestamp]:
    """Per bill meter: use and Carbon Point baseline over the last ``months`` billing months, and
    the current half-year's outlook. Returns the frame (indexed by meter_id) and the last month."""
    last = store.sql("SELECT max(period_end) AS m FROM readings WHERE resolution IN ('billing', 'monthly')")["m"].iloc[0]
    since = pd.Timestamp(last) - pd.DateOffset(months=months + 26)  # the baseline looks two years back
    bills = store.sql("""SELECT meter_id, carrier, resolution, period_start, period_end, value_canonical FROM readings
                         WHERE resolution IN ('billing', 'monthly') AND carrier IN ('electricity', 'gas', 'water')
                         AND period_end > ? ORDER BY meter_id, period_start""", [since])
    usage = MonthlyUsage.from_long(bills["meter_id"], bills["carrier"], billing_month(bills), bills["value_canonical"])
    result = carbon_point(usage)
    use, baseline = usage.values, result.baseline
    both = ~np.isnan(use) & ~np.isnan(baseline)
    year = slice(-months, None)
    last_month = usage.months[-1]
    # the half-year the last month lies in, as far as it has gone: the tier the household is on track for
    half_start = (last_month.month - 1) // 6 * 6 + 1
    half = slice(-(last_month.month - half_start + 1), None)
    half_use = np.where(both[:, half], use[:, half], 0.0).sum(axis=1)
    half_base = np.where(both[:, half], baseline[:, half], 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        reduction = np.where(half_base > 0, (half_base - half_use) / half_base, np.nan)
    settings = result.settings
    tier = reduction_tier(reduction, np.asarray(settings.tier_lower_bounds))
    points = np.zeros(len(tier))
    for carrier, table in settings.points.items():  # one entry per carrier
        rows = (usage.carriers == carrier) & (tier > 0)
        points[rows] = np.asarray(table, dtype=float)[tier[rows] - 1]
    frame = pd.DataFrame({
        "use_12m": np.nansum(use[:, year], axis=1), "bills_12m": (~np.isnan(use[:, year])).sum(axis=1),
        "cp_use_12m": np.where(both[:, year], use[:, year], 0.0).sum(axis=1),
        "cp_baseline_12m": np.where(both[:, year], baseline[:, year], 0.0).sum(axis=1),
        "cp_months": both[:, half].sum(axis=1), "cp_half_use": half_use, "cp_half_baseline": half_base,
        "cp_reduction": reduction, "cp_tier": tier.astype(np.int64),
        "cp_points": points, "cp_won": points * settings.won_per_point,
    }, index=pd.Index(usage.meters, name="meter_id"))
    frame.loc[frame["cp_months"] == 0, ["cp_reduction", "cp_half_use", "cp_half_baseline"]] = np.nan
    return frame, last_month


def _savings(derived: Store) -> pd.DataFrame:
    """The annual CalTRACK savings per meter (one method per meter, bills first), with what the
    household must know to read them: ``savings_note`` is ``insufficient`` (the baseline fails
    CalTRACK data sufficiency, so the figures are not shown, as the city's totals leave them out),
    ``programme_in_baseline`` (a programme of the carrier began in the baseline year: the figure
    misses the part already saved then) or missing; ``savings_warning`` is the baseline's most
    severe warning code (:class:`energy_lib.core.status.WarningCode`; missing if none)."""
    frame = derived.sql("""
        SELECT s.meter_id, s.method, s.savings, s.band, s.normal_savings, s.normal_band, s.savings_kwh,
               s.savings_kgco2eq, s.savings_won,
               CASE WHEN s.sufficiency <> 'pass' THEN 'insufficient'
                    WHEN s.programme_in_baseline THEN 'programme_in_baseline' END AS savings_note,
               (SELECT w.code FROM warnings w
                 WHERE w.analysis = s.analysis AND w.meter_id = s.meter_id AND w.method = s.method
                 ORDER BY CASE w.severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, w.code
                 LIMIT 1) AS savings_warning
        FROM savings s WHERE s.analysis = 'annual'""")
    frame["priority"] = frame["method"].map(_METHOD_PRIORITY).fillna(9)
    frame = frame.sort_values(["meter_id", "priority"], kind="stable").drop_duplicates("meter_id")
    return frame.drop(columns=["method", "priority"]).set_index("meter_id")


def _neighbourhoods(store: Store, neighbours: int) -> pd.DataFrame:
    """``centre``, ``ward_code`` pairs: each dong with itself and its nearest dongs (distance
    between representative points on a local flat projection; dongs are a few km apart)."""
    wards = store.read("wards", ["ward_code", "lat", "lon"]).dropna().reset_index(drop=True)
    lat, lon = np.radians(wards["lat"].to_numpy()), np.radians(wards["lon"].to_numpy())
    x, y = lon * np.cos(lat.mean()), lat
    distance = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    nearest = np.argsort(distance, axis=1, kind="stable")[:, : neighbours + 1]  # itself first (distance 0)
    codes = wards["ward_code"].to_numpy()
    return pd.DataFrame({"centre": np.repeat(codes, nearest.shape[1]), "ward_code": codes[nearest.ravel()]})


def build_index(store: Store, derived: Store, codes: pd.DataFrame, *, settings: PeerSettings | None = None) -> pd.DataFrame:
    """The lookup table of every household: one row per household, vectorised over the city.

    Parameters
    ----------
    store, derived : Store
        The canonical store and the tables of ``energy compute``.
    codes : pandas.DataFrame
        ``account`` (electricity customer number) and ``code_hash`` (:func:`code_hashes`); never
        the codes themselves. Households without a row cannot log in.
    settings : PeerSettings, optional
        Default :meth:`PeerSettings.configured` (``config/privacy.toml``).

    Returns
    -------
    pandas.DataFrame
        ``meter_id`` (the key: electricity meter pseudonym), ``code_hash``, ``ward_code``,
        ``gu_code``, ``building_type``, ``size_band``, ``last_month``, ``half_year``; per carrier
        ``<c>_``: ``has_meter``, ``use_12m`` and ``bills_12m`` [kWh or m³, bills],
        ``cp_use_12m``/``cp_baseline_12m`` (months with a Carbon Point baseline), ``cp_months``,
        ``cp_half_use``/``cp_half_baseline`` [kWh or m³] (the current half-year's months with a
        baseline), ``cp_reduction`` [fraction], ``cp_tier``, ``cp_points`` [points], ``cp_won`` [won] of the
        current half-year so far, ``savings``, ``band``, ``normal_savings``, ``normal_band``
        [kWh or m³], ``savings_kwh`` [kWh], ``savings_kgco2eq`` [kgCO2eq], ``savings_won``
        [won], ``savings_note`` and ``savings_warning`` (:func:`_savings`), ``peer_typical``, ``peer_efficient`` [kWh or m³] (the peer group's published
        figures, :mod:`energy_lib.apps.peers`), ``judgement``; and ``kgco2eq_12m`` with
        ``peer_typical_kgco2eq``/``peer_efficient_kgco2eq`` [kgCO2eq], ``peer_level``,
        ``peer_key``, ``peer_households``, ``judgement`` and ``tip_carrier``.

    Notes
    -----
    Yearly use is compared only between households with a bill in each of the twelve months; a
    household with fewer bills gets its figures but no comparison.
    """
    settings = settings or PeerSettings.configured()
    homes = _households(store)
    monthly, last_month = _monthly(store, settings.months)
    savings = _savings(derived)
    for c in CARRIERS:
        meters = homes[f"{c}_meter"]
        homes[f"{c}_has_meter"] = meters.notna()
        for source in (monthly, savings):
            part = source.reindex(meters.to_numpy())
            part.columns = [f"{c}_{name}" for name in part.columns]
            homes[part.columns] = part.to_numpy()
        complete = homes[f"{c}_bills_12m"] >= settings.months
        homes[f"{c}_compared"] = homes[f"{c}_use_12m"].where(complete)
        homes[f"{c}_kgco2eq"] = units.kgco2eq(homes[f"{c}_compared"].to_numpy(),
                                              pd.Series(c, index=homes.index))
    # emissions make the carriers commensurable: the overall judgement is on their sum
    present = [homes[f"{c}_kgco2eq"].where(homes[f"{c}_has_meter"]) for c in CARRIERS]
    total = pd.concat(present, axis=1)
    homes["kgco2eq_12m"] = total.sum(axis=1, min_count=1).where(total.notna().sum(axis=1) == homes[
        [f"{c}_has_meter" for c in CARRIERS]].sum(axis=1))
    bounds = np.asarray(settings.area_bands_m2)
    band = np.searchsorted(bounds, homes["floor_area_m2"].to_numpy(dtype=float), side="right")
    # labels of data ("<60", "60-85", ">=135"), not markup: written with format() so that the check
    # for HTML built from f-strings (tests/unit/test_templating.py) stays a plain search
    labels = np.array(["<{:g}".format(bounds[0]), *[f"{a:g}-{b:g}" for a, b in zip(bounds[:-1], bounds[1:])],
                       ">={:g}".format(bounds[-1])])
    homes["size_band"] = np.where(homes["floor_area_m2"].isna(), "area_unknown", labels[np.minimum(band, len(labels) - 1)])

    values = [f"{c}_compared" for c in CARRIERS] + ["kgco2eq_12m"]
    groups = peers.assign_groups(homes, _neighbourhoods(store, settings.neighbours), values, settings)
    for c in CARRIERS:
        homes[f"{c}_peer_typical"] = groups[f"{c}_compared_typical"]
        homes[f"{c}_peer_efficient"] = groups[f"{c}_compared_efficient"]
        homes[f"{c}_judgement"] = peers.judge(homes[f"{c}_compared"], homes[f"{c}_peer_typical"],
                                              homes[f"{c}_peer_efficient"])
    homes["peer_typical_kgco2eq"] = groups["kgco2eq_12m_typical"]
    homes["peer_efficient_kgco2eq"] = groups["kgco2eq_12m_efficient"]
    homes[["peer_level", "peer_key"]] = groups[["peer_level", "peer_key"]]
    homes["peer_households"] = groups["households"]
    homes["judgement"] = peers.judge(homes["kgco2eq_12m"], homes["peer_typical_kgco2eq"], homes["peer_efficient_kgco2eq"])
    homes["tip_carrier"] = _tip_carrier(homes)

    homes["meter_id"] = homes["electricity_meter"]
    keyed = pd.DataFrame({"meter_id": customer_pseudonym(codes["account"]).to_numpy(),
                          "code_hash": codes["code_hash"].astype(str).to_numpy()}).drop_duplicates("meter_id")
    homes = homes.merge(keyed, on="meter_id", how="left")
    homes["last_month"] = last_month
    homes["half_year"] = f"{last_month.year}H{1 + (last_month.month - 1) // 6}"
    drop = [f"{c}_{s}" for c in CARRIERS for s in ("meter", "compared", "kgco2eq")] + ["site_id", "floor_area_m2"]
    ordered = ["meter_id", "code_hash"] + [c for c in homes.columns if c not in ("meter_id", "code_hash")]
    return homes[ordered].drop(columns=drop).reset_index(drop=True)


def _tip_carrier(homes: pd.DataFrame) -> pd.Series:
    """The carrier where the household could save most: the largest emissions above the typical
    neighbour's figure (else above the efficient neighbours'); the largest emissions where there is
    no comparison."""
    def excess(reference: str) -> pd.DataFrame:
        return pd.DataFrame({c: (homes[f"{c}_compared"] - homes[f"{c}_{reference}"]) * _kg_per_unit(c)
                             for c in CARRIERS})

    own = pd.DataFrame({c: homes[f"{c}_use_12m"].where(homes[f"{c}_has_meter"]) * _kg_per_unit(c) for c in CARRIERS})
    choice = pd.Series(pd.NA, index=homes.index, dtype="string")
    for frame in (excess("peer_typical"), excess("peer_efficient"), own):
        positive = frame.where(frame > 0)
        take = choice.isna() & positive.notna().any(axis=1)
        choice[take] = positive[take].idxmax(axis=1)
    return choice


def _kg_per_unit(carrier: str) -> float:
    """Emissions of one canonical unit of a carrier [kgCO2eq/kWh or kgCO2eq/m³]."""
    return float(units.kgco2eq(np.ones(1), pd.Series([carrier]))[0])


def write_index(index: pd.DataFrame, path: str | Path) -> Path:
    """Write :func:`build_index` to a Parquet file (atomically: write, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    index.to_parquet(partial, index=False)
    partial.replace(path)
    return path


# --- the lookup ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ThrottleSettings:
    """When failed attempts slow down. Failures count at three levels, each with its threshold.

    Attributes
    ----------
    max_failures : int
        Failures of one client on one account within ``window_s`` before that client waits to
        try that account again: slows one person guessing one household's code.
    client_max_failures : int
        Failures of one client on all accounts together before that client waits for any account:
        slows one person trying a code on many households.
    account_max_failures : int
        Failures on one account from all clients together before everybody waits for that
        account, its owner included: the ceiling against a guess spread over many clients.
    window_s : float
        Failures older than this are forgotten [s].
    base_delay_s : float
        Wait after a threshold's failure; doubles with each further failure [s].
    max_delay_s : float
        Longest wait [s].

    Notes
    -----
    The trade-off is in ``account_max_failures``. Counted per client alone, a guesser who gets a
    new client key (clears cookies, changes address) for every few attempts would never be
    slowed down; counted per account alone (as before), anyone who knows a neighbour's customer
    number could lock the neighbour out with three wrong codes. The account ceiling is therefore
    high: a person, even reloading, is slowed by their own client's counts long before it; only
    an attack from many clients at once reaches it, and then the owner waits too, which is the
    price of stopping it. With codes of 31**8 (8.5e11) values, the ceiling lets a distributed
    guesser about 100 tries per 10 minutes (the doubling waits after it allow few more), some
    5.5e6 a year: odds of about 1 in 150,000 a year of finding one household's code.
    """

    max_failures: int = 3
    client_max_failures: int = 10
    account_max_failures: int = 100
    window_s: float = 600.0
    base_delay_s: float = 30.0
    max_delay_s: float = 3600.0


@dataclass(frozen=True)
class CarrierView:
    """One carrier of a household; units as in :func:`build_index` (``unit`` is kWh or m³)."""

    carrier: str
    unit: str
    use_12m: float
    bills_12m: int
    cp_use_12m: float
    cp_baseline_12m: float
    cp_months: int
    cp_half_use: float
    cp_half_baseline: float
    cp_reduction: float
    cp_tier: int
    cp_points: float
    cp_won: float
    savings: float
    band: float
    normal_savings: float
    normal_band: float
    savings_kwh: float
    savings_kgco2eq: float
    savings_won: float
    savings_note: str | None
    savings_warning: str | None
    peer_typical: float
    peer_efficient: float
    judgement: str | None


@dataclass(frozen=True)
class HouseholdView:
    """What the page shows one household: its carriers, its peers, a judgement and tips."""

    half_year: str
    last_month: pd.Timestamp
    ward_code: str
    building_type: str
    size_band: str
    carriers: tuple[CarrierView, ...]
    kgco2eq_12m: float
    peer_typical_kgco2eq: float
    peer_efficient_kgco2eq: float
    peer_level: str | None
    peer_households: int | None
    judgement: str | None
    tip_carrier: str | None
    tips: tuple[dict, ...] = field(default=())

    @property
    def points(self) -> float:
        """Carbon Points the household is on track for this half-year, all carriers [points]."""
        return float(sum(c.cp_points for c in self.carriers))


@dataclass(frozen=True)
class Refused:
    """A lookup that shows nothing. ``reason`` is ``not_found`` (unknown customer or wrong code:
    deliberately one reason) or ``slowed_down`` (wait ``retry_after_s`` [s])."""

    reason: str
    message_ko: str
    message_en: str
    retry_after_s: float = 0.0


_NOT_FOUND = Refused("not_found", *(i18n.text("my_savings.not_found", lang) for lang in i18n.LANGUAGES))


def tips(carrier: str) -> tuple[dict, ...]:
    """The tips of a carrier (``ko``, ``en``), in catalogue order, from the string catalogue
    (``saving_tips.<carrier>`` in ``config/strings.toml``; none for a carrier without tips)."""
    return tuple(i18n.group(f"saving_tips.{carrier}").values())


class _Throttle:
    """Failed attempts per key in a SQLite file shared by every process that serves lookups.

    A key is a text (e.g. ``client:<hash>``) that :meth:`retry_after` is given with its own
    threshold of failures.
    """

    def __init__(self, path: Path, settings: ThrottleSettings):
        self.path, self.settings = path, settings
        with contextlib.closing(self._connect()) as con, con:
            con.execute("CREATE TABLE IF NOT EXISTS failures (key TEXT NOT NULL, at REAL NOT NULL)")
            con.execute("CREATE INDEX IF NOT EXISTS failures_key ON failures (key, at)")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=5.0)

    def retry_after(self, limits: dict[str, int], now: float) -> float:
        """Seconds until every key of ``limits`` (key: its threshold of failures) may try again
        (0: now)."""
        s = self.settings
        wait = 0.0
        with contextlib.closing(self._connect()) as con:
            for key, threshold in limits.items():
                n, last = con.execute("SELECT count(*), max(at) FROM failures WHERE key = ? AND at > ?",
                                      (key, now - s.window_s)).fetchone()
                if n >= threshold:
                    delay = min(s.base_delay_s * 2.0 ** (n - threshold), s.max_delay_s)
                    wait = max(wait, last + delay - now)
        return max(wait, 0.0)

    def fail(self, keys: list[str], now: float) -> None:
        with contextlib.closing(self._connect()) as con, con:
            con.executemany("INSERT INTO failures VALUES (?, ?)", [(k, now) for k in keys])
            # forget what no longer counts, so the file stays small
            con.execute("DELETE FROM failures WHERE at <= ?", (now - max(self.settings.window_s, self.settings.max_delay_s),))

    def clear(self, keys: list[str]) -> None:
        with contextlib.closing(self._connect()) as con, con:
            con.executemany("DELETE FROM failures WHERE key = ?", [(k,) for k in keys])


def _attempt_limits(meter_id: str, client: str, settings: ThrottleSettings) -> dict[str, int]:
    """The throttle's keys of one attempt, each with its threshold of failures: the client on
    the account, the client, and the account. The client key is kept only as a salted hash and
    the account as its meter pseudonym, never the customer number."""
    if not isinstance(client, str) or not client.strip():
        raise ValueError("the client must be a non-empty str: energy_lib.apps.client.client_key()")
    client_id = pseudonyms("client", pd.Series([client], dtype="str")).iloc[0]
    return {f"client-account:{client_id}:{meter_id}": settings.max_failures,
            f"client:{client_id}": settings.client_max_failures,
            f"account:{meter_id}": settings.account_max_failures}


class Lookup:
    """Answers "my savings" lookups from an index file.

    Parameters
    ----------
    index_path : path
        The Parquet file of :func:`build_index`; read into memory once.
    throttle_path : path, optional
        SQLite file of failed attempts; default ``<index>.attempts.sqlite`` next to the index, so
        that every Voila kernel on the machine shares it.
    settings : ThrottleSettings, optional
    clock : callable, optional
        Seconds since the epoch (tests pass a fake clock).
    """

    def __init__(self, index_path: str | Path, *, throttle_path: str | Path | None = None,
                 settings: ThrottleSettings | None = None, clock=time.time):
        index_path = Path(index_path)
        frame = pd.read_parquet(index_path)
        self._position = pd.Index(frame["meter_id"].to_numpy())
        self._position.get_indexer(self._position[:1])  # build the hash table now, not in the first citizen's lookup
        # one numpy array per column: a row is read with a few array lookups, no pandas row object
        self._columns = {c: frame[c].to_numpy() for c in frame.columns}
        self._ring = keys.ring()  # fails closed here, at the app's start, not in a citizen's lookup
        self._clock = clock
        self._throttle = _Throttle(Path(throttle_path or index_path.with_suffix(".attempts.sqlite")),
                                   settings or ThrottleSettings())
        # an unknown customer's code is checked against a hash of the index's own cost, so that the
        # answer takes as long as for a known one (no timing oracle for who has a code)
        template = next((h for h in self._columns["code_hash"] if isinstance(h, str)), None)
        position, cost = (parse_hash(template)[:2]) if template else (len(self._ring) - 1, None)
        self._dummy_hash = code_hash(secrets.token_hex(8), settings=cost, ring=self._ring[:position + 1])

    def find(self, customer_number: str, code: str, client: str) -> HouseholdView | Refused:
        """One household's view, or a refusal.

        Parameters
        ----------
        customer_number : str
            Electricity customer number as on the bill (spaces and hyphens ignored).
        code : str
            Personal energy code (case, spaces and hyphens ignored).
        client : str
            The visiting browser's client key (:func:`energy_lib.apps.client.client_key`, the same
            across page reloads): failures count per client and account, per client, and per
            account with a much higher ceiling (:class:`ThrottleSettings`), so that one client's
            failures do not lock the account's owner out.
        """
        now = self._clock()
        meter_id = customer_pseudonym(pd.Series([customer_number])).iloc[0]
        limits = _attempt_limits(meter_id, client, self._throttle.settings)
        wait = self._throttle.retry_after(limits, now)
        if wait > 0:
            seconds = int(np.ceil(wait))
            return Refused("slowed_down", *(i18n.text("my_savings.slowed_down", lang, seconds=seconds)
                                            for lang in i18n.LANGUAGES), float(wait))
        row = self._position.get_indexer([meter_id])[0]
        stored = self._columns["code_hash"][row] if row >= 0 else None
        expected = stored if isinstance(stored, str) else self._dummy_hash
        # compare even for an unknown customer, in constant time: no answer reveals which part was wrong
        matches = verify_code(code, expected, self._ring) and row >= 0 and isinstance(stored, str)
        if not matches:
            self._throttle.fail(list(limits), now)
            return _NOT_FOUND
        # Only this client's failures on this account are forgiven: a success on one's own
        # account must not reset the counts of a client that tries many, nor the account's ceiling.
        self._throttle.clear([key for key in limits if key.startswith("client-account:")])
        return self._view(row)

    def _value(self, name: str, row: int):
        """A cell as a plain Python value: float (NaN where missing), int or str (None where missing)."""
        value = self._columns[name][row]
        if isinstance(value, (float, np.floating)):
            return float(value)
        return None if value is None or pd.isna(value) else value.item() if isinstance(value, np.generic) else value

    def _carrier(self, carrier: str, row: int) -> CarrierView:
        integers = ("bills_12m", "cp_months", "cp_tier")
        values = {f: self._value(f"{carrier}_{f}", row) for f in CarrierView.__dataclass_fields__
                  if f not in ("carrier", "unit")}
        values.update({f: int(np.nan_to_num(values[f])) for f in integers})
        return CarrierView(carrier, units.canonical_unit(carrier), **values)

    def _view(self, row: int) -> HouseholdView:
        carriers = tuple(self._carrier(c, row) for c in CARRIERS if self._columns[f"{c}_has_meter"][row])
        tip_carrier = self._value("tip_carrier", row)
        households = self._value("peer_households", row)
        return HouseholdView(
            half_year=self._value("half_year", row), last_month=pd.Timestamp(self._value("last_month", row)),
            ward_code=self._value("ward_code", row), building_type=self._value("building_type", row),
            size_band=self._value("size_band", row), carriers=carriers,
            kgco2eq_12m=self._value("kgco2eq_12m", row), peer_typical_kgco2eq=self._value("peer_typical_kgco2eq", row),
            peer_efficient_kgco2eq=self._value("peer_efficient_kgco2eq", row), peer_level=self._value("peer_level", row),
            peer_households=None if households is None or households != households else int(households),
            judgement=self._value("judgement", row), tip_carrier=tip_carrier,
            tips=tips(tip_carrier) if tip_carrier else ())
