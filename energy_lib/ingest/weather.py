"""Daily weather from the Korea Meteorological Administration (기상자료개방포털, ASOS daily data).

The portal's CSV (CP949): ``지점, 지점명, 일시, 평균기온(°C), 최저기온(°C), 최고기온(°C), …``; the
API's JSON uses ``stnId, tm, avgTa, minTa, maxTa``. Gwangju's station is 156. Only temperatures
are kept; other columns are ignored.
"""

from __future__ import annotations

import pandas as pd

from energy_lib.core import configuration
from energy_lib.ingest import checks
from energy_lib.ingest.formats import Columns, Converted, Field, Format, Options, Reference
from energy_lib.ingest.problems import IngestError, Issues
from energy_lib.ingest.sinks import KeyedFactSink

__all__ = ["FORMAT"]

FIELDS = (
    Field("station", ("지점", "지점번호", "stnId", "stn_id", "stn"), required=False,
          help="station number (default --station, or 156)"),
    Field("date", ("일시", "일자", "날짜", "tm", "obs_date"), help="day"),
    Field("temp_mean", ("평균기온", "avgTa", "avg_ta", "mean_temp", "temp_mean_c", "temperature"),
          help="daily mean air temperature [°C]"),
    Field("temp_min", ("최저기온", "minTa", "min_ta", "temp_min_c"), required=False, help="minimum [°C]"),
    Field("temp_max", ("최고기온", "maxTa", "max_ta", "temp_max_c"), required=False, help="maximum [°C]"),
)


def _rules() -> tuple[checks.Rule, ...]:
    limits = configuration.load("ingest")["weather"]
    low, high = limits["min_temp_c"], limits["max_temp_c"]
    rules = []
    for column in ("temp_mean_c", "temp_min_c", "temp_max_c"):
        rules.append(checks.Rule(
            "impossible_value", column,
            lambda f, c=column: ~((f[c] < low) | (f[c] > high)),
            lambda f, c=column: f[c].astype(str) + f" °C is outside {low:g}…{high:g} °C: a unit (°F?) "
                                                     "or typing error. Correct the value."))
    rules.append(checks.Rule(
        "inconsistent_value", "temp_mean_c",
        lambda f: ~((f["temp_mean_c"] < f["temp_min_c"] - 0.05) | (f["temp_mean_c"] > f["temp_max_c"] + 0.05)),
        lambda f: "the mean " + f["temp_mean_c"].astype(str) + " °C is not between the minimum "
                  + f["temp_min_c"].astype(str) + " and maximum " + f["temp_max_c"].astype(str)
                  + " °C. Check the columns."))
    rules.append(checks.Rule(
        "future_period", "date", lambda f: ~(f["date"] > pd.Timestamp.now(tz="Asia/Seoul").tz_localize(None)),
        lambda f: "the day " + f["date"].dt.strftime("%Y-%m-%d") + " is in the future. Check the date."))
    return tuple(rules)


def convert(columns: Columns, options: Options, reference: Reference) -> Converted:
    n = columns.raw.table.num_rows
    issues = Issues(n)
    if "station" in columns:
        station = columns.required_text("station", issues, "the station")
    elif options.station:
        station = pd.Series(options.station, index=range(n), dtype="str")
    else:
        raise IngestError(columns.raw.name, "the file has no station column.",
                          "Pass --station (Gwangju's ASOS station is 156).", row=1)
    records = pd.DataFrame({
        "source_row": columns.rows, "station": station, "date": columns.date("date", issues),
        "temp_mean_c": columns.number("temp_mean", issues, "the mean temperature"),
        "temp_min_c": columns.optional_number("temp_min", issues, "the minimum temperature"),
        "temp_max_c": columns.optional_number("temp_max", issues, "the maximum temperature"),
    })
    headers = {"temp_mean_c": columns.header("temp_mean")}
    for field, column in (("temp_min", "temp_min_c"), ("temp_max", "temp_max_c")):
        if field in columns:
            headers[column] = columns.header(field)
    return Converted("weather", records, issues, headers=headers)


FORMAT = Format(
    name="weather",
    title="KMA daily weather (ASOS)",
    fields=FIELDS,
    convert=convert,
    sink=KeyedFactSink("weather", ("station", "date"), "temp_mean_c", _rules()),
    description=__doc__.split("\n\n")[0],
)
