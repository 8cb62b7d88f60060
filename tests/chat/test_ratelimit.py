"""The per-(server, user) sliding-window rate limit, driven by a hand-moved clock."""

from __future__ import annotations

import pytest

from bot.chat.ratelimit import RateLimiter


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_allows_count_then_says_how_long_to_wait(clock: Clock) -> None:
    limiter = RateLimiter(clock)
    for _ in range(5):
        assert limiter.hit((1, 10), 5, 60) == 0.0
        clock.now += 1
    # Five attempts at t=1000..1004; the first leaves the window at t=1060.
    assert limiter.hit((1, 10), 5, 60) == pytest.approx(55.0)
    clock.now = 1059.5
    assert limiter.hit((1, 10), 5, 60) == pytest.approx(0.5)
    clock.now = 1060.0
    assert limiter.hit((1, 10), 5, 60) == 0.0


def test_sliding_window_frees_one_slot_at_a_time(clock: Clock) -> None:
    limiter = RateLimiter(clock)
    assert limiter.hit("k", 2, 10) == 0.0  # t=1000
    clock.now += 4
    assert limiter.hit("k", 2, 10) == 0.0  # t=1004
    assert limiter.hit("k", 2, 10) == pytest.approx(6.0)
    clock.now = 1010.0  # first attempt expired, second still counts
    assert limiter.hit("k", 2, 10) == 0.0
    assert limiter.hit("k", 2, 10) == pytest.approx(4.0)


def test_refused_attempts_do_not_extend_the_wait(clock: Clock) -> None:
    limiter = RateLimiter(clock)
    assert limiter.hit("k", 1, 30) == 0.0
    for _ in range(10):
        clock.now += 1
        assert limiter.hit("k", 1, 30) > 0
    clock.now = 1030.0
    assert limiter.hit("k", 1, 30) == 0.0


def test_keys_are_independent_per_server_and_user(clock: Clock) -> None:
    limiter = RateLimiter(clock)
    assert limiter.hit((1, 10), 1, 60) == 0.0
    assert limiter.hit((1, 10), 1, 60) > 0
    assert limiter.hit((1, 11), 1, 60) == 0.0  # another user
    assert limiter.hit((2, 10), 1, 60) == 0.0  # same user on another server


def test_lowered_limit_applies_at_once(clock: Clock) -> None:
    limiter = RateLimiter(clock)
    for _ in range(3):
        assert limiter.hit("k", 5, 60) == 0.0
        clock.now += 1
    # Three attempts at t=1000..1002; with a limit of 2, two must age out: the second at t=1061.
    assert limiter.hit("k", 2, 60) == pytest.approx(58.0)


def test_prune_drops_idle_keys(clock: Clock) -> None:
    limiter = RateLimiter(clock)
    limiter.hit("a", 1, 60)
    limiter.hit("b", 1, 60)
    clock.now += 61
    limiter.hit("c", 1, 60)
    assert limiter.prune(60) == 2
    assert len(limiter) == 1


def test_non_positive_limit_means_unlimited(clock: Clock) -> None:
    limiter = RateLimiter(clock)
    assert all(limiter.hit("k", 0, 60) == 0.0 for _ in range(100))
