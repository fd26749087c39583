"""The pacing rule shared by the synchronous wait and the trigger, and the real clock they default to."""

from __future__ import annotations

import asyncio

import pytest

from airflow_provider_azureml.utils.waiting import (
    MAX_BACKOFF_SECONDS,
    REAL_CLOCK,
    Pacing,
    next_backoff,
    next_poll_wait,
    sleep_before_poll,
)


def test_backoff_doubles_up_to_a_cap():
    assert next_backoff(1.0) == 2.0
    assert next_backoff(MAX_BACKOFF_SECONDS) == MAX_BACKOFF_SECONDS
    assert next_backoff(200.0) == MAX_BACKOFF_SECONDS


def test_polls_start_one_interval_apart_however_long_a_poll_took():
    assert next_poll_wait(10.0, 0.5) == 9.5
    assert next_poll_wait(10.0, 0.0) == 10.0
    assert next_poll_wait(10.0, 30.0) == 5.0  # an overloaded service still gets a rest


def test_a_fraction_of_the_interval_only_shortens_the_wait():
    assert next_poll_wait(10.0, 0.0, fraction=0.25) == 2.5
    assert next_poll_wait(10.0, 4.0, fraction=0.25) == 0.0  # never negative


def test_only_the_first_wait_after_a_successful_poll_is_a_fraction():
    pacing = Pacing(10.0, fraction=0.25)
    first, pacing = pacing.after_poll(1.0)
    second, pacing = pacing.after_poll(1.0)
    assert (first, second) == (1.5, 9.0)


def test_transient_errors_double_the_wait_until_a_poll_succeeds():
    pacing = Pacing(10.0)
    waits = []
    for _ in range(3):
        wait, pacing = pacing.after_transient_error()
        waits.append(wait)
    after_success, pacing = pacing.after_poll(0.0)
    again, _ = pacing.after_transient_error()
    assert waits == [20.0, 40.0, 80.0]
    assert (after_success, again) == (10.0, 20.0)  # a success starts the backoff over


def test_errors_before_the_first_success_keep_its_wait_a_fraction():
    """The spread is of the first successful poll's wait, however many errors came first."""
    pacing = Pacing(10.0, fraction=0.5)
    _, pacing = pacing.after_transient_error()
    wait, _ = pacing.after_poll(0.0)
    assert wait == 5.0


def test_backoff_is_capped():
    pacing = Pacing(100.0)
    for expected in (200.0, MAX_BACKOFF_SECONDS, MAX_BACKOFF_SECONDS):
        wait, pacing = pacing.after_transient_error()
        assert wait == expected


@pytest.mark.parametrize(
    ("wait", "deadline", "now", "expected"),
    [
        (30.0, None, 1000.0, 30.0),  # no deadline
        (30.0, 1100.0, 1000.0, 30.0),  # far from it
        (30.0, 1010.0, 1000.0, 10.0),  # cut short: the next poll is at the deadline
        (30.0, 1000.0, 1000.0, None),  # reached: the final look, no sleep
        (0.0, 990.0, 1000.0, None),  # passed
    ],
)
def test_no_sleep_goes_past_the_deadline(wait, deadline, now, expected):
    assert sleep_before_poll(wait, deadline, now) == expected


def test_the_real_clock_spreads_first_waits_over_the_interval():
    fractions = [REAL_CLOCK.jitter() for _ in range(200)]
    assert all(0.0 <= fraction < 1.0 for fraction in fractions)
    assert max(fractions) - min(fractions) > 0.5


def test_the_real_clock_sleeps_for_real():
    started = REAL_CLOCK.monotonic()
    REAL_CLOCK.sleep(0.01)
    asyncio.run(REAL_CLOCK.asleep(0.01))
    assert REAL_CLOCK.monotonic() - started >= 0.02
