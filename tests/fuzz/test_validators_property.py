"""Property tests: the library's validators refuse any input with ParameterError, never a crash.

Every validator gets arbitrary Python values (numbers of every size and kind, NaN, inf, strings,
None, containers); whatever it does not accept must raise :class:`ParameterError` (one line),
and what it accepts must satisfy the bounds it promises.
"""

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from noisyhw.errors import (
    ParameterError,
    check_choice,
    check_float,
    check_int,
    check_memory,
    check_probability,
    check_seed,
)

ANY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.binary(max_size=8),
    st.lists(st.integers(), max_size=3),
    st.tuples(st.floats(), st.integers()),
    st.complex_numbers(),
)
BOUND = st.one_of(st.none(), st.integers(-(10**6), 10**6))
FBOUND = st.one_of(st.none(), st.floats(-1e6, 1e6))
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _one_line(exc: ParameterError) -> None:
    assert "\n" not in str(exc) and str(exc)


@FAST
@given(ANY, BOUND, BOUND)
def test_check_int(value, lo, hi):
    try:
        got = check_int("--x", value, lo, hi)
    except ParameterError as exc:
        _one_line(exc)
        return
    assert isinstance(got, int) and not isinstance(got, bool)
    assert (lo is None or got >= lo) and (hi is None or got <= hi)


@FAST
@given(ANY, FBOUND, FBOUND, st.booleans(), st.booleans(), st.booleans())
def test_check_float(value, lo, hi, lo_open, hi_open, allow_inf):
    try:
        got = check_float(
            "--x", value, lo, hi, lo_open=lo_open, hi_open=hi_open, allow_inf=allow_inf
        )
    except ParameterError as exc:
        _one_line(exc)
        return
    assert isinstance(got, float) and not math.isnan(got)
    assert allow_inf or math.isfinite(got)
    assert lo is None or got > lo or (got == lo and not lo_open)
    assert hi is None or got < hi or (got == hi and not hi_open)


@FAST
@given(ANY)
def test_check_seed_and_probability(value):
    for check in (check_seed, check_probability):
        try:
            check("--x", value)
        except ParameterError as exc:
            _one_line(exc)


@FAST
@given(ANY, st.lists(st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=5)))
def test_check_choice(value, choices):
    try:
        assert check_choice("--x", value, choices) in choices
    except ParameterError as exc:
        _one_line(exc)


@FAST
@given(st.one_of(st.floats(allow_nan=False), st.integers(min_value=0, max_value=2**200)))
def test_check_memory_refuses_with_the_estimate(nbytes):
    try:
        check_memory("--size", nbytes, 1, "a buffer")
    except ParameterError as exc:
        _one_line(exc)
        assert "needs about" in str(exc) and "of memory for a buffer" in str(exc)


@FAST
@given(st.text(max_size=30))
def test_range_and_list_parsing(text):
    from noisyhw.cli.common import MAX_POINTS, parse_floats, parse_ints

    try:
        vals = parse_floats("--x", text)
    except ParameterError as exc:
        _one_line(exc)
    else:
        assert 1 <= len(vals) <= MAX_POINTS and not any(math.isnan(v) for v in vals)
    try:
        ints = parse_ints("--x", text, lo=1)
    except ParameterError as exc:
        _one_line(exc)
    else:
        assert 1 <= len(ints) <= MAX_POINTS and min(ints) >= 1


@FAST
@given(
    st.one_of(st.integers(-5, 5), st.integers(min_value=2**60), st.floats(), st.none()),
    st.one_of(st.integers(-5, 5), st.integers(min_value=2**60), st.floats(), st.none()),
    st.one_of(st.integers(-5, 5), st.integers(min_value=2**60), st.floats(), st.text(max_size=3)),
)
def test_stop_rule(chunk, min_errors, max_frames):
    from noisyhw.sweep import StopRule

    try:
        StopRule(chunk_size=chunk, min_errors=min_errors, max_frames=max_frames)
    except ParameterError as exc:
        _one_line(exc)


@FAST
@given(
    epochs=ANY,
    batch_size=ANY,
    lr=ANY,
    weight_decay=ANY,
    optimizer=st.one_of(st.sampled_from(["adam", "sgd"]), st.text(max_size=4)),
)
def test_train_config(epochs, batch_size, lr, weight_decay, optimizer):
    from noisyhw.train import TrainConfig

    try:
        TrainConfig(
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            weight_decay=weight_decay,
            optimizer=optimizer,
        )
    except ParameterError as exc:
        _one_line(exc)


@FAST
@given(ANY, ANY, ANY)
def test_ber_grid(lo, hi, per_decade):
    from noisyhw.storage.campaign import ber_grid

    try:
        grid = ber_grid(lo, hi, per_decade)
    except ParameterError as exc:
        _one_line(exc)
    else:
        assert grid and all(0 < b <= 1 for b in grid)


@FAST
@given(st.text(max_size=20), st.one_of(st.none(), st.text(max_size=20)))
def test_dataset_root_checks(name, root):
    from noisyhw.data.registry import check_root, dataset_info

    try:
        dataset_info(name)
        check_root(name, root)
    except ParameterError as exc:
        _one_line(exc)


@pytest.mark.parametrize("field", ["batch_size", "ebn0_db", "x", "FOLDER", "--out", "a b"])
def test_option_name_mapping(field):
    from noisyhw.errors import option_name

    name = option_name(field)
    assert name.startswith("--") or name == field
