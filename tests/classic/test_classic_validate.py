"""The shared option checks in vision.classic.validate."""

import math

import numpy as np
import pytest

from vision.classic.validate import check_choice, check_number, check_odd
from vision.errors import InputError


def test_check_number_returns_float_or_int():
    assert check_number(3, name="x") == 3.0 and type(check_number(3, name="x")) is float
    assert check_number(np.float32(0.5), name="x", low=0, high=1) == 0.5
    assert type(check_number(np.int64(4), name="n", low=1, integer=True)) is int
    assert check_number(0, name="x", low=0) == 0.0                       # closed bounds include the ends
    assert check_number(1, name="x", high=1) == 1.0


@pytest.mark.parametrize("value, kwargs, pattern", [
    (True, {}, r"x: expected a finite number, got True"),
    ("3", {}, r"x: expected a finite number, got '3'"),
    (None, {}, r"expected a finite number, got None"),
    (math.nan, {}, r"got nan"),
    (math.inf, {"low": 0}, r"expected a finite number ≥ 0, got inf"),
    (0, {"low": 0, "low_open": True}, r"expected a finite number > 0, got 0"),
    (1.5, {"low": 0, "high": 1}, r"expected a finite number ≥ 0 and ≤ 1, got 1.5"),
    (1, {"high": 1, "high_open": True}, r"expected a finite number < 1, got 1"),
    (2.0, {"integer": True}, r"expected an integer, got 2.0"),
    (0, {"low": 1, "integer": True}, r"expected an integer ≥ 1, got 0"),
    (np.bool_(True), {"integer": True}, r"expected an integer"),
])
def test_check_number_refuses_with_what_it_got_and_expected(value, kwargs, pattern):
    with pytest.raises(InputError, match=pattern):
        check_number(value, name="x", **kwargs)


def test_check_choice():
    assert check_choice("a", ("a", "b"), name="m") == "a"
    assert check_choice(np.int64(5), (3, 5), name="k") == 5 and type(check_choice(5, (3, 5), name="k")) is int
    assert check_choice("b", {"a": 1, "b": 2}, name="m") == "b"
    for bad, choices in ((True, (0, 1)), (3.0, (3, 5)), ("3", (3, 5)), (3, ("3",)), ("c", ("a", "b")), (["a"], ("a",))):
        with pytest.raises(InputError, match=r"m: expected one of \[.*\], got"):
            check_choice(bad, choices, name="m")


def test_check_odd():
    assert check_odd(5, name="k") == 5
    for bad in (4, 0, -1, 3.0, "3", None, True, math.nan):
        with pytest.raises(InputError, match="k: expected an odd integer ≥ 1, got"):
            check_odd(bad, name="k")
