"""energy_lib.core.vectors: encode's quick path for grouped values gives the hash encoding's result."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from energy_lib.core import vectors


def _hashed(values):
    encoded = pc.dictionary_encode(vectors.arrow_strings(values))
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, pd.Index(encoded.dictionary.to_numpy(zero_copy_only=False), dtype="str")


@pytest.mark.parametrize("values", [
    pd.Series(np.repeat([f"m{i:03d}" for i in (5, 1, 9, 2)], 7)),  # grouped: the quick path
    pd.Series(["a", "a", "b", "a"]),                              # a value in two runs
    pd.Series(["b", "b", "a", "a", "c"]), pd.Series(["x"]), pd.Series([], dtype="str"),
    pd.Series(["a", None, "a", "a"]),                             # missing: -1
    pd.Series(np.random.default_rng(0).choice(["p", "q", "r"], 200)),  # ungrouped
])
def test_encode_equals_the_hash_encoding(values):
    codes, distinct = vectors.encode(values)
    expected_codes, expected_distinct = _hashed(values)
    np.testing.assert_array_equal(codes, expected_codes)
    assert codes.dtype == np.int64 and distinct.equals(expected_distinct) and distinct.dtype == "str"


def test_run_starts_are_the_first_position_and_each_change():
    from energy_lib.core.vectors import run_starts

    assert run_starts(pa.array(["a", "a", "b", "a", "a", "c"])).tolist() == [0, 2, 3, 5]
    assert run_starts(pa.array(["x"])).tolist() == [0]
    assert run_starts(pa.array([], pa.string())).tolist() == []
