"""UPF configuration: the ``upf`` section of :class:`nwdaf.app.config.Settings` (packet source, reporting, delivery).

The packet source is one string so it fits an environment variable (``NWDAF_UPF__SOURCE=live:n3@nwdaf-upf``):

* ``none`` - no traffic (sessions and subscriptions work, reports are empty);
* ``pcap:PATH[:SPEED]`` - replay a pcap/pcapng file, ``SPEED`` x recorded speed (absent: as fast as possible);
* ``synthetic:SCENARIO[:SEED]`` - a generated scenario of the data plane;
* ``live:IFACE[@NETNS]`` - AF_PACKET capture on ``IFACE``, inside network namespace ``NETNS`` when given;
* ``dataset:FORMAT:PATH[:SPEED]`` - replay a public flow dataset (``FORMAT`` binetflow, zeek, cicflow or nfstream,
  see :func:`nwdaf.lib.flows.read_flows`; ``PATH`` may be a glob) as the packets its flow records stand for, at
  ``SPEED`` x recorded speed (absent: as fast as possible). With ``learn_sessions`` every flow initiator becomes
  a UE.

``SCENARIO`` is ``benign`` (10 benign UEs), an attack of the data plane's synthetic generator (9 benign UEs and
one attacker from second 10 on, e.g. ``scan``) or ``mixed`` (10 benign UEs and one attacker of every kind).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

from nwdaf.platform.n4 import ConfiguredPduSession

SourceKind = Literal["none", "pcap", "synthetic", "live", "dataset"]
FlowFormat = Literal["binetflow", "zeek", "cicflow", "nfstream"]
"""The flow record formats a ``dataset`` source reads (``nwdaf.lib.flows.FORMATS``; a unit test keeps them equal)."""
FORMATS: tuple[str, ...] = get_args(FlowFormat)
_IFACE = re.compile(r"^[A-Za-z0-9_.:-]{1,15}$")
_NETNS = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """A parsed packet-source string; which fields are set depends on ``kind``."""

    kind: SourceKind
    path: Path | None = None
    speed: float | None = None
    scenario: str | None = None
    seed: int = 0
    iface: str | None = None
    netns: str | None = None
    flow_format: str | None = None
    """The flow record format of a ``dataset`` source."""


def _path_speed(rest: str, what: str, usage: str) -> tuple[Path, float | None]:
    path, speed = rest, None
    head, sep, tail = rest.rpartition(":")
    if sep and re.fullmatch(r"[0-9]+(\.[0-9]+)?", tail):
        path, speed = head, float(tail)
        if speed <= 0:
            raise ValueError(f"{what} replay speed must be > 0, got {tail}")
    if not path:
        raise ValueError(f"{what} source needs a path: {usage}")
    return Path(path), speed


def _pcap(rest: str) -> SourceSpec:
    path, speed = _path_speed(rest, "pcap", "pcap:PATH[:SPEED]")
    return SourceSpec("pcap", path=path, speed=speed)


def _dataset(rest: str) -> SourceSpec:
    usage = "dataset:FORMAT:PATH[:SPEED]"
    fmt, _, where = rest.partition(":")
    if fmt not in FORMATS:
        raise ValueError(f"dataset source needs a flow format, {usage} with FORMAT one of {', '.join(FORMATS)}; "
                         f"got {fmt!r}")
    path, speed = _path_speed(where, "dataset", usage)
    return SourceSpec("dataset", path=path, speed=speed, flow_format=fmt)


def _synthetic(rest: str) -> SourceSpec:
    scenario, sep, seed = rest.partition(":")
    if not scenario:
        raise ValueError("synthetic source needs a scenario: synthetic:SCENARIO[:SEED]")
    if sep and not seed.isdigit():
        raise ValueError(f"synthetic seed must be a non-negative integer, got {seed!r}")
    return SourceSpec("synthetic", scenario=scenario, seed=int(seed) if sep else 0)


def _live(rest: str) -> SourceSpec:
    iface, sep, netns = rest.partition("@")
    if not _IFACE.fullmatch(iface):
        raise ValueError(f"live source needs an interface name of 1-15 characters, got {iface!r}")
    if sep and not _NETNS.fullmatch(netns):
        raise ValueError(f"invalid network namespace name {netns!r}")
    return SourceSpec("live", iface=iface, netns=netns or None)


def parse_source(text: str) -> SourceSpec:
    """Parse a packet-source string (see the module docstring); raises ``ValueError`` naming the problem."""
    kind, _, rest = text.partition(":")
    parsers = {"pcap": _pcap, "synthetic": _synthetic, "live": _live, "dataset": _dataset}
    if kind == "none" and not rest:
        return SourceSpec("none")
    parser = parsers.get(kind)
    if parser is None:
        raise ValueError(
            f"unknown packet source {text!r}: expected none, pcap:PATH[:SPEED], synthetic:SCENARIO[:SEED], "
            "live:IFACE[@NETNS] or dataset:FORMAT:PATH[:SPEED]"
        )
    return parser(rest)


class AccountingSettings(BaseModel):
    """Data plane accounting: trend sub-interval, flow inactivity timeout, flow table bound, expiry sweeps (the
    fields of ``nwdaf.lib.dataplane.AccountingConfig``, which the UPF builds from this section)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bin_s: float = Field(1.0, gt=0, description="sub-interval for peak/average throughput trends")
    idle_timeout_s: float = Field(60.0, gt=0, description="a flow idle this long is expired")
    max_flows: int = Field(1_000_000, ge=2, description="hard cap on tracked flows (LRU eviction)")
    sweep_interval_s: float = Field(1.0, gt=0, description="how often (packet time) expiry runs")


class UpfConfig(BaseModel):
    """The UPF network function: where packets come from, how reports are produced and delivered."""

    model_config = ConfigDict(extra="forbid")

    source: str = "none"
    """Packet source (module docstring); validated at start-up."""
    batch_size: int = Field(65536, ge=1, le=1 << 22)
    """Most packets the pump hands to the data plane at once."""
    idle_poll_s: float = Field(0.05, gt=0, le=5)
    """How long the pump waits for a live/paced source before polling again."""
    report_tick_s: float = Field(1.0, gt=0, le=60)
    """Reporting tick: the data plane's accounting period is closed every tick and every subscription's
    ``repPeriod`` is counted in ticks (so it should be a multiple of the tick)."""
    replay_time: Literal["rebased", "original"] = "rebased"
    """Time of a recorded source (pcap, dataset, synthetic): ``rebased`` moves the recording onto the wall clock
    (offset = wall clock at its first packet - that packet's time; gaps and ``SPEED`` kept), ``original`` keeps the
    recorded times (the NWDAF's analytics and storage then carry them). Live capture is always on the wall clock."""
    replay_start: Literal["first_subscription", "immediately"] = "first_subscription"
    """When a recorded source starts: with the first Nupf_EventExposure subscription (``nwdaf run all`` starts the
    UPF before the NWDAF subscribes; a recording read before would be reported to nobody), or at once."""
    learn_sessions: bool = False
    """Create a PDU session for every flow initiator (pcap replay: the sender of each conversation's first packet,
    found by reading the file at start-up; dataset replay: each record's initiator) and, as packets flow, for every
    private source address no session matches."""
    report_idle_ues: bool = True
    """Whether a report names the targeted UEs that had no traffic in it (items without measurements, or zero
    PER_SESSION usage): a consumer learns they were quiet and that the subscription is alive. ``nwdaf replay`` turns
    it off: with every flow initiator of a day's recording a UE, most are quiet in most periods, and their items
    carried nothing the analytics use while costing most of each report."""
    min_rep_period_s: int = Field(1, ge=1)
    """Shortest ``repPeriod`` accepted in a subscription (TS 29.564 leaves the bound to the UPF)."""
    max_subscriptions: int = Field(1000, ge=1)
    max_items_per_notification: int = Field(1000, ge=1)
    """Most flows/sessions/apps in one NotificationData; larger reports are split across notifications. A PER_FLOW
    measurement is about 470 B on the bus, so 1,000 keeps a notification under Kafka's default 1 MB message limit
    (5,000 made 2.3 MiB envelopes that the broker refused)."""
    queue_size: int = Field(64, ge=1, le=100_000)
    """Notifications buffered per subscriber; beyond this the oldest is dropped (and counted)."""
    notify_attempts: int = Field(4, ge=1, le=20)
    """Delivery attempts of one notification before it is dropped (and counted)."""
    notify_backoff_s: float = Field(0.2, ge=0)
    notify_backoff_max_s: float = Field(10.0, gt=0)
    app_detection: bool = False
    """Application detection (nDPI through the ``nfstream`` extra) over a pcap source: enables
    APPLICATION_RELATED_INFO (the domains each UE asked for, per PDU session)."""
    enforcement: str = "none"
    """What a PDU session release does besides the data plane drop: ``none`` or ``nft:NETNS`` (testbed)."""
    sessions: list[ConfiguredPduSession] = Field(default_factory=list)
    """PDU sessions established when the UPF starts (before the source's own UEs and learned ones), with the
    N4 API's attributes: ``supi``, ``pduSessionId``, ``ueIpv4Addr`` and/or ``ueIpv6Prefix`` (a /64), ``snssai``,
    ``dnn`` and optionally ``seid``."""
    accounting: AccountingSettings = Field(default_factory=AccountingSettings)
    """Data plane accounting: trend sub-interval ``bin_s``, flow inactivity ``idle_timeout_s``, flow table bound
    ``max_flows`` (least recently seen flows are evicted beyond it), expiry ``sweep_interval_s``."""

    @field_validator("source")
    @classmethod
    def _valid_source(cls, v: str) -> str:
        parse_source(v)
        return v

    @field_validator("sessions")
    @classmethod
    def _distinct_sessions(cls, v: list[ConfiguredPduSession]) -> list[ConfiguredPduSession]:
        seen: dict[tuple[str, object], int] = {}
        for i, session in enumerate(v):
            for name, value in session.identities().items():
                first = seen.setdefault((name, value), i)
                if first != i:
                    raise ValueError(f"sessions[{i}].{name} {value} is already used by sessions[{first}]")
        return v

    @field_validator("enforcement")
    @classmethod
    def _valid_enforcement(cls, v: str) -> str:
        kind, sep, netns = v.partition(":")
        if v == "none" or (kind == "nft" and sep and _NETNS.fullmatch(netns)):
            return v
        raise ValueError(f"enforcement must be 'none' or 'nft:NETNS', got {v!r}")

    @property
    def source_spec(self) -> SourceSpec:
        return parse_source(self.source)
