"""The sorting helpers equal NumPy's, on sorted, unsorted, tied and too-wide keys."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from jixiao.scoring.sorting import sort_values, stable_argsort, unique_inverse

KEYS = st.one_of(
    st.lists(st.integers(0, 20), max_size=200),  # many ties
    st.lists(st.integers(0, 2**62 - 1), max_size=50),  # too wide to pack: the NumPy fallback
    st.lists(st.integers(0, 10**6), max_size=200).map(sorted),  # already sorted: no sort at all
)


@settings(max_examples=200, deadline=None)
@given(KEYS)
def test_stable_argsort_equals_numpys_stable_argsort(values: list[int]) -> None:
    key = np.array(values, dtype=np.int64)
    assert stable_argsort(key).tolist() == np.argsort(key, kind="stable").tolist()


@settings(max_examples=200, deadline=None)
@given(KEYS)
def test_unique_inverse_equals_numpys_unique(values: list[int]) -> None:
    key = np.array(values, dtype=np.int64)
    uniq, inv = unique_inverse(key)
    want_uniq, want_inv = np.unique(key, return_inverse=True)
    assert uniq.tolist() == want_uniq.tolist()
    assert inv.tolist() == want_inv.tolist()


@settings(max_examples=200, deadline=None)
@given(KEYS)
def test_sort_values_equals_numpys_sort_and_leaves_its_input_alone(values: list[int]) -> None:
    key = np.array(values, dtype=np.int64)
    before = key.copy()
    assert sort_values(key).tolist() == np.sort(key).tolist()
    assert key.tolist() == before.tolist()
