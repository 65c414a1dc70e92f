"""A worker's spool and the master's collector, through a channel that loses, repeats and reorders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scenarios.events import Outcome, StepEvent, encode
from scenarios.relay import BATCH_BYTES, EVENTS, RESEND_AFTER, WORKERS_FILE, Collector, Relay


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def step(seq: int, message: str = "") -> StepEvent:
    return StepEvent(
        time=1_800_000_000.0 + seq,
        journey="login",
        step="login.submit",
        outcome=Outcome.OK,
        duration_ms=12.5,
        journey_id=f"j{seq}",
        worker="worker-1",
        seq=seq,
        message=message,
    )


def test_every_event_reaches_the_master_once_through_a_lossy_channel(tmp_path: Path) -> None:
    clock = Clock()
    sent: list[dict[str, Any]] = []
    relay = Relay(tmp_path / "worker" / "worker-1.jsonl", "worker-1", lambda kind, data: sent.append(data), clock=clock)
    collector = Collector(tmp_path / "results")
    events = [step(n, message="x" * (n % 50)) for n in range(3000)]
    for event in events[:1500]:
        relay.write(event)
    relay.pump()
    assert len(sent) > 1  # more than one batch: the spool is bigger than BATCH_BYTES
    assert all(len(batch["lines"]) <= BATCH_BYTES for batch in sent)
    # The channel delivers the batches twice and out of order, and loses the last one.
    first, rest = sent[:-1], sent[-1]
    for batch in [*reversed(first), *first]:
        relay.acknowledged(collector.events("worker-1", batch["start"], batch["lines"]))
    assert relay.acked == rest["start"]  # all but the lost batch
    sent.clear()
    for event in events[1500:]:
        relay.write(event)
    relay.pump()
    assert sent[0]["start"] == rest["start"] + len(rest["lines"])  # new bytes first; nothing resent yet
    for batch in sent:  # a gap: the master waits for the lost bytes
        assert collector.events("worker-1", batch["start"], batch["lines"]) == rest["start"]
    sent.clear()
    clock.now += RESEND_AFTER + 0.1
    relay.pump()
    assert sent[0]["start"] == rest["start"]  # sent again from the first unacknowledged byte
    for batch in sent:
        relay.acknowledged(collector.events("worker-1", batch["start"], batch["lines"]))
    relay.close()
    assert relay.whole
    collector.close()
    written = (tmp_path / "results" / "events" / "worker-1.jsonl").read_bytes()
    assert written == b"".join(encode(e) for e in events)
    assert written == (tmp_path / "worker" / "worker-1.jsonl").read_bytes()
    assert (tmp_path / "worker" / "worker-1.acked").read_text(encoding="utf-8") == f"{len(written)}\n"
    report = json.loads((tmp_path / "results" / WORKERS_FILE).read_text(encoding="utf-8"))
    assert report["worker-1"]["events"] == 3000
    assert report["worker-1"]["duplicate_bytes"] > 0
    assert report["worker-1"]["gaps"] > 0


def test_a_batch_cut_elsewhere_after_a_resend_writes_only_its_new_lines(tmp_path: Path) -> None:
    collector = Collector(tmp_path)
    lines = [encode(step(n)) for n in range(4)]
    assert collector.events("worker-0", 0, b"".join(lines[:2])) == len(lines[0] + lines[1])
    overlap = b"".join(lines[1:])  # starts before what the master has
    assert collector.events("worker-0", len(lines[0]), overlap) == len(b"".join(lines))
    collector.close()
    assert (tmp_path / "events" / "worker-0.jsonl").read_bytes() == b"".join(lines)


def test_the_master_refuses_what_is_not_event_lines_and_keeps_the_oracle_only_after_every_event(
    tmp_path: Path,
) -> None:
    collector = Collector(tmp_path)
    assert collector.events("worker-0", 0, b'{"kind": "nonsense"}\n') == 0
    assert collector.events("worker-0", 0, encode(step(1))[:-1]) == 0  # half a line
    line = encode(step(1))
    assert not collector.oracle("worker-0", b"{}", events_end=len(line))  # its events are not all there
    assert collector.events("worker-0", 0, line) == len(line)
    assert collector.oracle("worker-0", b'{"1": {}}', events_end=len(line))
    collector.close()
    assert (tmp_path / "oracle" / "worker-0.json").read_bytes() == b'{"1": {}}'
    report = json.loads((tmp_path / WORKERS_FILE).read_text(encoding="utf-8"))
    assert report["worker-0"]["rejected_batches"] == 2
    assert report["worker-0"]["finished"] is True


def test_a_lost_channel_sends_nothing_twice_until_the_acknowledgement_is_late(tmp_path: Path) -> None:
    clock = Clock()
    sent: list[str] = []
    relay = Relay(tmp_path / "w.jsonl", "worker-0", lambda kind, data: sent.append(kind), clock=clock)
    relay.write(step(1))
    relay.pump()
    relay.pump()
    assert sent == [EVENTS]
    clock.now += RESEND_AFTER + 0.1
    relay.pump()
    assert sent == [EVENTS, EVENTS]
    assert relay.resent == 1
    assert not relay.drain(0.0)
