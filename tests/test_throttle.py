"""The sign-in rate limiter (ui.auth.SignInThrottle) on a fake clock."""

import threading

import pytest

from ui.auth import ADDRESS_BURST, ADDRESS_REFILL_S, GLOBAL_BURST, GLOBAL_REFILL_S, SignInThrottle


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture
def clock():
    return FakeClock()


def fail(throttle, address, times=1):
    """`times` failed attempts; each must be allowed."""
    for _ in range(times):
        assert throttle.acquire(address) == 0


def test_defaults_are_the_documented_numbers():
    assert (ADDRESS_BURST, ADDRESS_REFILL_S, GLOBAL_BURST, GLOBAL_REFILL_S) == (5, 12.0, 30, 2.0)


def test_a_burst_then_one_attempt_per_refill(clock):
    throttle = SignInThrottle(clock=clock)
    fail(throttle, "a", ADDRESS_BURST)
    assert throttle.acquire("a") == pytest.approx(ADDRESS_REFILL_S)
    clock.advance(ADDRESS_REFILL_S - 0.5)
    assert throttle.acquire("a") == pytest.approx(0.5)
    clock.advance(0.5)
    fail(throttle, "a")  # one token came back
    assert throttle.acquire("a") == pytest.approx(ADDRESS_REFILL_S)
    clock.advance(ADDRESS_REFILL_S * ADDRESS_BURST * 3)  # refills to the burst, no further
    fail(throttle, "a", ADDRESS_BURST)
    assert throttle.acquire("a") > 0


def test_refused_attempts_cost_nothing_and_do_not_extend_the_wait(clock):
    throttle = SignInThrottle(clock=clock)
    fail(throttle, "a", ADDRESS_BURST)
    for _ in range(100):
        throttle.acquire("a")
    clock.advance(ADDRESS_REFILL_S)
    assert throttle.acquire("a") == 0


def test_successes_cost_nothing(clock):
    throttle = SignInThrottle(clock=clock)
    for _ in range(50):  # more than either burst
        assert throttle.acquire("a") == 0
        throttle.refund("a")
    fail(throttle, "a", ADDRESS_BURST)
    assert throttle.acquire("a") > 0


def test_addresses_are_limited_separately(clock):
    throttle = SignInThrottle(clock=clock)
    fail(throttle, "198.51.100.7", ADDRESS_BURST)
    assert throttle.acquire("198.51.100.7") > 0
    assert throttle.retry_after("203.0.113.9") == 0
    fail(throttle, "203.0.113.9", ADDRESS_BURST)
    assert throttle.acquire("203.0.113.9") > 0


def test_the_global_cap_holds_across_addresses(clock):
    throttle = SignInThrottle(clock=clock)
    for i in range(GLOBAL_BURST):
        fail(throttle, f"10.0.0.{i}")
    assert throttle.acquire("10.9.9.9") == pytest.approx(GLOBAL_REFILL_S)  # a fresh address waits too
    clock.advance(GLOBAL_REFILL_S)
    fail(throttle, "10.9.9.9")
    assert throttle.acquire("10.9.9.10") == pytest.approx(GLOBAL_REFILL_S)


def test_retry_after_is_the_longer_of_the_two_waits(clock):
    throttle = SignInThrottle(address_burst=2, address_refill_s=10, global_burst=3, global_refill_s=30, clock=clock)
    fail(throttle, "a", 2)
    assert throttle.retry_after("a") == pytest.approx(10)  # the address's bucket
    fail(throttle, "b")
    assert throttle.retry_after("c") == pytest.approx(30)  # the global bucket
    assert throttle.retry_after("a") == pytest.approx(30)
    clock.advance(12)
    assert throttle.retry_after("a") == pytest.approx(18)
    assert throttle.acquire("a") == pytest.approx(18)


def test_refilled_addresses_are_forgotten(clock):
    throttle = SignInThrottle(global_burst=1000, clock=clock)
    for i in range(200):
        fail(throttle, f"192.0.2.{i}")
    assert len(throttle) == 200
    clock.advance(ADDRESS_REFILL_S)  # each had one failure: full again
    fail(throttle, "new")
    assert len(throttle) == 1
    throttle.refund("new")
    assert len(throttle) == 0


def test_memory_is_bounded_by_the_global_bucket(clock):
    """An attacker with endless addresses (IPv6) fills at most a few dozen entries."""
    throttle = SignInThrottle(clock=clock)
    most = 0
    for i in range(20000):
        throttle.acquire(f"2001:db8::{i:x}")
        most = max(most, len(throttle))
        clock.advance(0.05)
    assert most <= GLOBAL_BURST + ADDRESS_BURST * ADDRESS_REFILL_S / GLOBAL_REFILL_S


def test_parallel_attempts_cannot_exceed_the_burst():
    throttle = SignInThrottle()  # the real clock: nothing refills within the test
    allowed = []
    start = threading.Barrier(20)

    def guess():
        start.wait()
        for _ in range(10):
            if throttle.acquire("attacker") == 0:
                allowed.append(1)

    threads = [threading.Thread(target=guess) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(allowed) == ADDRESS_BURST
