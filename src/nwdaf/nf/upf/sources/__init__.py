"""Packet sources of the UPF service: a pcap replay, a synthetic UE population, live capture, or a flow dataset
replayed as the packets its records stand for (:mod:`nwdaf.nf.upf.sources.dataset`).

A source is a blocking iterator of :class:`PacketBatch` run in a worker thread by the pump; :meth:`close` makes it
end promptly (pacing waits on an event, live capture times out every ``flush_s``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Protocol

from nwdaf.lib.dataplane.batch import PacketBatch
from nwdaf.lib.dataplane.reader import PcapReader, replay
from nwdaf.lib.dataplane.sessions import SessionTable
from nwdaf.lib.dataplane.synthetic import ATTACKS, Scenario
from nwdaf.lib.flows.skips import SkipReport
from nwdaf.lib.flows.upf_usage import counted_frames
from nwdaf.nf.upf.config import SourceSpec, UpfConfig
from nwdaf.nf.upf.sources.dataset import DatasetSource
from nwdaf.nf.upf.sources.initiators import flow_initiators
from nwdaf.nf.upf.sources.live import LiveCapture

log = logging.getLogger("nwdaf.upf")
SCENARIOS = ("benign", "mixed", *ATTACKS)
__all__ = ["SCENARIOS", "DatasetSource", "LiveSource", "PacketSource", "PcapSource", "SyntheticSource",
           "build_scenario", "open_source"]


class PacketSource(Protocol):
    """What the pump reads: batches until exhausted or closed."""

    name: str
    live: bool
    """Stamped with wall-clock time as they arrive (the kernel's, or a generator's on the wall clock): never rebased.
    Else a recording carrying its own time (``upf.replay_time``)."""
    speed: float | None
    """Replay pace relative to recorded time; None = as fast as possible."""

    def batches(self) -> Iterator[PacketBatch]: ...

    def prepare(self, sessions: SessionTable) -> None: ...

    def close(self) -> None: ...


class PcapSource:
    """Replay a pcap/pcapng file once, paced at ``speed`` x recorded speed (None: as fast as possible).

    ``learn_hosts`` (``upf.learn_sessions``): the file is read once when the UPF starts and every flow initiator
    (:mod:`nwdaf.nf.upf.sources.initiators`) no session holds gets a learned PDU session, in order of first
    appearance; the data plane's rule (private source addresses) learns the rest as the packets flow.
    """

    live = False

    def __init__(self, spec: SourceSpec, batch_size: int, *, learn_hosts: bool = False) -> None:
        assert spec.path is not None
        if not spec.path.is_file():
            raise FileNotFoundError(f"pcap source {spec.path} does not exist")
        self.path, self.speed, self.batch_size = spec.path, spec.speed, batch_size
        self.learn_hosts = learn_hosts
        self.name = f"pcap:{spec.path}"
        self.skips = SkipReport()
        """Frames the data plane leaves out (:mod:`nwdaf.lib.flows.skips`), counted when ``learn_hosts`` reads the
        file at start (``nwdaf replay`` reports them)."""
        self._stop = threading.Event()

    def prepare(self, sessions: SessionTable) -> None:
        if self.learn_hosts:
            reader = PcapReader(self.path, batch_size=self.batch_size)
            addresses, first_ns = flow_initiators(counted_frames(reader, self.path, self.skips))
            learned = sessions.learn(addresses, first_ns) if len(addresses) else 0
            log.info("%s: %d flow initiators learned as UEs", self.name, learned)

    def batches(self) -> Iterator[PacketBatch]:
        for batch in replay(self.path, self.speed, sleep=self._pause, batch_size=self.batch_size):
            if self._stop.is_set():
                return
            yield batch

    def _pause(self, seconds: float) -> None:
        self._stop.wait(seconds)

    def close(self) -> None:
        self._stop.set()


def build_scenario(name: str, seed: int) -> Scenario:
    if name == "benign":
        return Scenario.build(benign=10, seed=seed)
    if name == "mixed":
        return Scenario.build(benign=10, attackers=dict.fromkeys(ATTACKS, 1), attack_start_s=10, seed=seed)
    if name in ATTACKS:
        return Scenario.build(benign=9, attackers={name: 1}, attack_start_s=10, seed=seed)
    raise ValueError(f"unknown synthetic scenario {name!r}; choose from {', '.join(SCENARIOS)}")


class SyntheticSource:
    """A seeded synthetic UE population, generated and delivered in real time (one ``step_s`` slice at a time).

    Its UEs' PDU sessions are established when the source starts, as an SMF would have done.
    """

    live = False
    speed: float | None = 1.0

    def __init__(self, spec: SourceSpec, step_s: float = 0.1) -> None:
        assert spec.scenario is not None
        self.scenario = build_scenario(spec.scenario, spec.seed)
        self.name = f"synthetic:{spec.scenario}:{spec.seed}"
        self.step_s = step_s
        self._stop = threading.Event()

    def prepare(self, sessions: SessionTable) -> None:
        self.scenario.establish(sessions)

    def batches(self) -> Iterator[PacketBatch]:
        wall0, t = time.monotonic(), 0.0
        while not self._stop.is_set():
            delay = wall0 + t + self.step_s - time.monotonic()
            if delay > 0 and self._stop.wait(delay):
                return
            yield self.scenario.window(t, t + self.step_s)
            t += self.step_s

    def close(self) -> None:
        self._stop.set()


class LiveSource:
    """AF_PACKET capture (see :mod:`nwdaf.nf.upf.sources.live`)."""

    live = True
    speed: float | None = 1.0

    def __init__(self, spec: SourceSpec, batch_size: int, flush_s: float) -> None:
        assert spec.iface is not None
        self.capture = LiveCapture(spec.iface, spec.netns, batch_size=min(batch_size, 65536), flush_s=flush_s)
        self.name = self.capture.name

    def prepare(self, sessions: SessionTable) -> None:
        return None

    def batches(self) -> Iterator[PacketBatch]:
        return iter(self.capture)

    def close(self) -> None:
        self.capture.close()


def open_source(config: UpfConfig) -> PacketSource | None:
    """The configured source (None for ``none``); raises ``ValueError``/``OSError`` with a clear message."""
    spec = config.source_spec
    if spec.kind == "pcap":
        return PcapSource(spec, config.batch_size, learn_hosts=config.learn_sessions)
    if spec.kind == "synthetic":
        return SyntheticSource(spec)
    if spec.kind == "live":
        return LiveSource(spec, config.batch_size, config.idle_poll_s)
    if spec.kind == "dataset":
        return DatasetSource(spec, config.batch_size, learn_hosts=config.learn_sessions)
    return None
