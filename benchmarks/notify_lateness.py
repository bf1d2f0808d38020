"""Notification lateness of PERIODIC Nnwdaf_EventsSubscription reports with many subscriptions (issue 6).

    .venv/bin/python benchmarks/notify_lateness.py [--subscriptions 1000 10000 ...] [--lateness-periods 10]
        [--client http1|httpx] [--receiver hypercorn|raw] [--notify-concurrency N] [--keepalive N] [--h2c]
        [--json OUT]

The NBI (the ``anlf`` service as the runtime builds it: sqlite store, OpenAPI validation, the product's notifier
and scheduler) runs here; the consumer's callback server runs in a child process on 127.0.0.1 so each has a core.
``--client`` picks the notifications' transport under the SBI client (``anlf.notification_client``: the product
default ``http1``, :mod:`nwdaf.platform.sbi.callback`; or ``httpx``), ``--receiver`` the callback server (Hypercorn
with a bare ASGI app, as our SMF serves; or a raw asyncio protocol answering 204, to see the NWDAF's own ceiling).
``benchmarks/closed_loop.py`` runs this as its part 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script: the repo root holds benchmarks.support (not shipped in the wheel).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import asyncio
import json
import math
import os
import signal
import subprocess
import tempfile
import time
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import httpx
from benchmarks.support import closed_loop as bench

from nwdaf.app.config import Settings, load_settings
from nwdaf.nf.anlf.config import AnlfSettings
from nwdaf.nf.anlf.notifier import AnalyticsNotifier, Delivery
from nwdaf.nf.anlf.processor import EventsSubscriptionProcessor
from nwdaf.nf.anlf.service import build_anlf
from nwdaf.nf.anlf.subscription import parse_request
from nwdaf.nf.smf.config import SmfSettings
from nwdaf.nf.smf.subscriber import subscription_request
from nwdaf.platform.bus import create_bus
from nwdaf.platform.models import to_wire
from nwdaf.platform.nf import ServiceContext, load_validator
from nwdaf.platform.sbi import SbiClient, create_sbi_app, start_server
from nwdaf.platform.sbi.retry import Reply

PERIOD_S = 1


class TimedNotifier(AnalyticsNotifier):
    """The AnLF's notifier, recording when the first attempt of each PERIODIC report leaves and naming the report
    ("subscriptionId due") in a header for the receiver."""

    sent: dict[str, float]

    def headers(self, delivery: Delivery) -> dict[str, str]:
        headers = super().headers(delivery)
        if delivery.due is not None:
            headers["x-bench-key"] = f"{delivery.subscription_id} {delivery.due!r}"
        return headers

    async def _post(self, delivery: Delivery) -> Reply:
        if delivery.due is not None:
            self.sent.setdefault(f"{delivery.subscription_id} {delivery.due!r}", time.time())
        return await super()._post(delivery)


class AsgiReceiver:
    """ASGI callback server: records when each report first arrives; ``GET /results`` returns them."""

    def __init__(self) -> None:
        self.received: dict[str, float] = {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        now = time.time()
        while (await receive()).get("more_body"):
            pass
        key = dict(scope["headers"]).get(b"x-bench-key")
        if key is not None:
            self.received.setdefault(key.decode(), now)
        body = json.dumps(self.received).encode() if scope["path"] == "/results" else b""
        await send({"type": "http.response.start", "status": 200 if body else 204,
                    "headers": [(b"content-type", b"application/json")] if body else []})
        await send({"type": "http.response.body", "body": body})


class RawReceiver(asyncio.Protocol):
    """Minimal HTTP/1.1 keep-alive server (Content-Length bodies only): 204 to every POST, ``GET /results``."""

    received: ClassVar[dict[str, float]] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: Any = transport
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        now = time.time()
        self.buf += data
        while (end := self.buf.find(b"\r\n\r\n")) >= 0:
            head = self.buf[:end].decode("latin-1").lower()
            length = 0
            key = None
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name == "content-length":
                    length = int(value)
                elif name == "x-bench-key":
                    key = value.strip()
            if len(self.buf) < end + 4 + length:
                return
            self.buf = self.buf[end + 4 + length:]
            if key is not None:
                RawReceiver.received.setdefault(key, now)
            if head.startswith("get /results"):
                body = json.dumps(RawReceiver.received).encode()
                self.transport.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                                     b"content-length: %d\r\n\r\n%s" % (len(body), body))
            else:
                self.transport.write(b"HTTP/1.1 204 No Content\r\n\r\n")


async def serve_receiver(port_file: Path, kind: str) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    if kind == "raw":
        raw = await asyncio.get_running_loop().create_server(RawReceiver, "127.0.0.1", 0)
        await asyncio.to_thread(port_file.write_text, str(raw.sockets[0].getsockname()[1]))
        await stop.wait()
        raw.close()
        return
    server = await start_server(AsgiReceiver(), "127.0.0.1", 0, name="receiver")  # type: ignore[arg-type]
    await asyncio.to_thread(port_file.write_text, str(server.port))
    await stop.wait()
    await server.stop()


def wait_for_file(path: Path, proc: subprocess.Popen[bytes], timeout_s: float = 30.0) -> str:
    deadline = time.monotonic() + timeout_s
    while not (path.exists() and path.read_text()):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"child {proc.pid} did not start (exit code {proc.poll()})")
        time.sleep(0.1)
    return path.read_text()


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


async def _create(processor: EventsSubscriptionProcessor, n: int, callback: str) -> float:
    """Through the router's parsing and the subscribe procedure (validation, store, scheduling as for a POST; no
    HTTP, so setup is quick), paced over whole seconds so that the anchors, hence the due times, are spread evenly
    over the period, as consumers subscribing at random times would leave them."""
    smf = SmfSettings(notification_method="PERIODIC", repetition_period_s=PERIOD_S, immediate_report=False)
    body = to_wire(subscription_request(smf, callback, "bench"))
    # The first subscription warms the validator up, so the pacing holds from the start.
    first, _ = await processor.subscribe(*parse_request(body, processor.validator))
    await processor.unsubscribe(first.subscription_id)
    spread_s = float(max(1, math.ceil(n / 500)))
    t = time.monotonic()
    for i in range(n):
        await asyncio.sleep(max(0.0, t + i * spread_s / n - time.monotonic()))
        await processor.subscribe(*parse_request(body, processor.validator))
    return n / (time.monotonic() - t)


@dataclass(frozen=True)
class NotifyVariant:
    """Knobs of the notification path; the defaults are the product's (AnlfSettings, SbiClient)."""

    concurrency: int = AnlfSettings().max_concurrent_notifications
    keepalive: int | None = None
    """httpx's max_keepalive_connections (None: httpx's default, 20); httpx client only."""
    h2c: bool = False
    client: str = AnlfSettings().notification_client
    receiver: str = "hypercorn"

    def sbi_client(self, settings: Settings) -> SbiClient:
        """The product's SBI client; for ``httpx``, over an httpx transport with the what-if keep-alive limit."""
        if self.client == "http1":
            return SbiClient(settings.sbi_client, max_idle_per_origin=self.concurrency)
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=self.keepalive or 20)
        return SbiClient(settings.sbi_client, httpx.AsyncHTTPTransport(http2=True, http1=not self.h2c, limits=limits))


def lateness(n_subs: int, periods: int, tmp: Path, variant: NotifyVariant) -> dict[str, Any]:
    """The receiver in a child process (its own core), the NBI here."""
    port_file = tmp / f"receiver-{n_subs}-{time.monotonic_ns()}.port"
    receiver = subprocess.Popen([sys.executable, __file__, "--serve-receiver", str(port_file), variant.receiver])
    try:
        callback = f"http://127.0.0.1:{wait_for_file(port_file, receiver)}"
        settings = load_settings(None, data_dir=str(tmp / f"nwdaf-{n_subs}-{time.monotonic_ns()}"),
                                 sbi_client={"h2c_prior_knowledge": variant.h2c},
                                 anlf={"max_concurrent_notifications": variant.concurrency,
                                       "notification_client": variant.client})
        settings.data_dir.mkdir()
        result = asyncio.run(_lateness(settings, n_subs, periods, callback, variant))
    finally:
        stop_process(receiver)
    return {**result, "variant": asdict(variant)}


async def _start_nbi(stack: AsyncExitStack, settings: Settings,
                     variant: NotifyVariant) -> tuple[EventsSubscriptionProcessor, TimedNotifier]:
    """The anlf service as the runtime builds it, serving on 127.0.0.1, with the timed notifier swapped in."""
    bus = create_bus(settings.bus.url)
    await bus.start()
    stack.push_async_callback(bus.close)
    client = variant.sbi_client(settings)
    stack.push_async_callback(client.aclose)
    anlf = build_anlf(ServiceContext(settings, bus, client, load_validator()), settings.anlf)
    p = anlf.processor

    async def on_dead(sid: str, reason: str) -> None:
        print(f"consumer of {sid} considered dead: {reason}")

    notifier = p.notifier = TimedNotifier(client, p.settings, p.metrics, on_dead)
    notifier.sent = {}
    server = await start_server(create_sbi_app("nwdaf", anlf.routers()), "127.0.0.1", 0, name="nwdaf")
    stack.push_async_callback(server.stop)
    await anlf.start()
    stack.push_async_callback(anlf.stop)
    return p, notifier


async def _lateness(settings: Settings, n_subs: int, periods: int, callback: str,
                    variant: NotifyVariant) -> dict[str, Any]:
    async with AsyncExitStack() as stack:
        p, notifier = await _start_nbi(stack, settings, variant)
        await p.scheduler.stop()  # create everything first: the reports of early subscriptions would slow it
        rate = await _create(p, n_subs, callback)
        p.scheduler.start()
        await asyncio.sleep(2.0)
        t0, posts0, cpu0 = time.time(), len(notifier.sent), time.process_time()
        await asyncio.sleep(periods)
        t1, posts1, cpu1 = time.time(), len(notifier.sent), time.process_time()
        await p.scheduler.stop()  # no new reports; let the ones already due drain
        for _ in range(300):
            if not notifier.pending:
                break
            await asyncio.sleep(0.1)
        anchors = [s.anchor for s in p.subscriptions.values()]
        async with httpx.AsyncClient() as c:
            received = (await c.get(f"{callback}/results")).json()
        outcomes = {o: p.metrics.registry.get_sample_value("nwdaf_anlf_notifications_total", {"outcome": o})
                    for o in ("delivered", "failed", "dropped")}
        totals = {"fired": p.scheduler.fired, "posts": len(notifier.sent), **outcomes}
        skipped = p.scheduler.skipped
    sent = bench.lateness_stats(notifier.sent, t0, t1)
    return {"subscriptions": n_subs, "period_s": PERIOD_S, "measured_s": round(t1 - t0, 2),
            "create_per_s": round(rate), "reports_due": bench.reports_due(anchors, t0, t1, PERIOD_S),
            "reports_sent": sent["count"], "posts_per_s": round((posts1 - posts0) / (t1 - t0)),
            "nwdaf_cpu_share": round((cpu1 - cpu0) / (t1 - t0), 2),
            "ticks_skipped_total": skipped, "totals": totals, "due_to_sent": sent,
            "due_to_received": bench.lateness_stats(received, t0, t1)}


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--subscriptions", type=int, nargs="+", default=[10_000])
    ap.add_argument("--lateness-periods", type=int, default=10)
    ap.add_argument("--client", choices=["http1", "httpx"], default=NotifyVariant.client,
                    help="The notifier's HTTP client (anlf.notification_client).")
    ap.add_argument("--receiver-kind", choices=["hypercorn", "raw"], default="hypercorn",
                    help="The consumer's callback server.")
    ap.add_argument("--notify-concurrency", type=int, default=NotifyVariant.concurrency,
                    help="What-if: anlf.max_concurrent_notifications.")
    ap.add_argument("--keepalive", type=int, default=None, help="What-if: httpx keep-alive connections (20).")
    ap.add_argument("--h2c", action="store_true", help="What-if: sbi_client.h2c_prior_knowledge (httpx client).")


def variant_of(args: argparse.Namespace) -> NotifyVariant:
    return NotifyVariant(args.notify_concurrency, args.keepalive, args.h2c, args.client, args.receiver_kind)


def run_all(args: argparse.Namespace) -> list[dict[str, Any]]:
    out = []
    with tempfile.TemporaryDirectory(prefix="nwdaf-lateness-") as tmp:
        for n in args.subscriptions:
            out.append(lateness(n, args.lateness_periods, Path(tmp), variant_of(args)))
            print(json.dumps(out[-1]), flush=True)
    return out


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--serve-receiver":
        asyncio.run(serve_receiver(Path(sys.argv[2]), sys.argv[3]))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(ap)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    bench.quiet_logs()
    out = run_all(args)
    if args.json is not None:
        args.json.write_bytes(json.dumps(out, indent=2).encode())


if __name__ == "__main__":
    main()
