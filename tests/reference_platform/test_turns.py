"""Turns per key: what makes login throttling's read-check-write one step."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from reference_platform.domain.turns import Turns


def test_attempts_on_one_key_take_turns_and_other_keys_do_not_wait() -> None:
    turns = Turns()
    inside = {"a": 0}
    most = {"a": 0}
    guard = threading.Lock()

    def attempt(key: str) -> None:
        with turns.of(key):
            with guard:
                inside[key] += 1
                most[key] = max(most[key], inside[key])
            time.sleep(0.001)  # a verification's time, so that the attempts overlap
            with guard:
                inside[key] -= 1

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(attempt, ["a"] * 20))
    assert most["a"] == 1
    assert len(turns) == 0  # locks are dropped when nobody waits

    other = Turns()
    taken = threading.Event()

    def take_b() -> None:
        with other.of("b"):
            taken.set()

    with other.of("a"):  # another key is taken while "a" is held: no global lock
        threading.Thread(target=take_b).start()
        assert taken.wait(5)
