"""Application related information (TS 29.564 ``ApplicationRelatedInformation``) from nDPI, via nfstream.

The data plane reads headers only; domain names need payload inspection. With ``app_detection`` on, the same
pcap the data plane replays is dissected by nDPI (the ``nfstream`` extra) in a background thread, and the server
names it finds (DNS query names, TLS SNI, HTTP Host) are kept per client address and flow start time, so a report
lists the domains a UE asked for within its window. Names that are not FQDNs (mDNS ``_x._tcp.local``, bare host
names) are left out: ``DomainInformation.domainName`` is an ``Fqdn``.
"""

from __future__ import annotations

import bisect
import logging
import re
import threading
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from nwdaf.platform.models.common import Fqdn
from nwdaf.platform.models.upf_ee import ApplicationRelatedInformation, DnProtocol, DomainInformation

log = logging.getLogger("nwdaf.upf.appinfo")

_FQDN = re.compile(r"^([0-9A-Za-z]([-0-9A-Za-z]{0,61}[0-9A-Za-z])?\.)+[A-Za-z]{2,63}\.?$")
_MAX_DOMAINS = 100


class AppDetectionError(RuntimeError):
    """Application detection was asked for but cannot run (extra missing, or a source without payloads)."""


def _protocol(application: str) -> DnProtocol | None:
    names = application.upper().split(".")
    if "DNS" in names:
        return DnProtocol.DNS_QNAME
    if "TLS" in names or "QUIC" in names:
        return DnProtocol.TLS_SNI
    return None


def _fqdn(name: str) -> Fqdn | None:
    name = name.strip().rstrip(".")
    return name if 4 <= len(name) <= 253 and _FQDN.fullmatch(name) else None


def _same(ns: int) -> int:
    return ns


class DomainObserver:
    """Server names per client address, ordered by flow start (ns since the epoch); filled by :meth:`run` from
    nDPI over ``path``, or by :meth:`add`."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        if path is not None:
            try:
                import nfstream  # noqa: F401 - fail at start-up, not in the background thread
            except ImportError as exc:
                raise AppDetectionError("application detection needs nDPI: pip install 'nwdaf[nfstream]'") from exc
        self._seen: dict[str, list[tuple[int, str, DnProtocol | None]]] = defaultdict(list)
        self._lock = threading.Lock()
        self.done = threading.Event()
        self.error: str | None = None
        self.flows = 0
        self.to_recording: Callable[[int], int] = _same
        """Maps a report window's (service) time to the file's own time, which nDPI's flows carry."""

    def run(self) -> None:
        """Dissect the whole file (call from a worker thread)."""
        from nfstream import NFStreamer

        try:
            for flow in NFStreamer(source=str(self.path), n_dissections=20, statistical_analysis=False):
                self.flows += 1
                name = _fqdn(flow.requested_server_name or "")
                if name is not None:
                    self.add(flow.src_ip, int(flow.bidirectional_first_seen_ms) * 1_000_000, name,
                             _protocol(flow.application_name or ""))
        except Exception as exc:  # nDPI errors must not take the UPF down; the reports say nothing then
            self.error = f"{type(exc).__name__}: {exc}"
            log.exception("application detection failed")
        finally:
            self.done.set()

    def add(self, client: str, ts_ns: int, name: str, protocol: DnProtocol | None) -> None:
        with self._lock:
            bisect.insort(self._seen[client], (ts_ns, name, protocol), key=lambda e: e[0])

    def information(self, client: str, start_ns: int, end_ns: int) -> ApplicationRelatedInformation | None:
        """The distinct domains ``client`` asked for in ``[start_ns, end_ns)``, or None when there were none."""
        start_ns, end_ns = self.to_recording(start_ns), self.to_recording(end_ns)
        with self._lock:
            seen = self._seen.get(client, [])
            lo = bisect.bisect_left(seen, start_ns, key=lambda e: e[0])
            hi = bisect.bisect_left(seen, end_ns, key=lambda e: e[0])
            window = seen[lo:hi]
        domains: dict[tuple[str, DnProtocol | None], None] = {}
        for _, name, protocol in window:
            domains.setdefault((name, protocol), None)
            if len(domains) >= _MAX_DOMAINS:
                break
        if not domains:
            return None
        return ApplicationRelatedInformation(domainInfoList=[
            DomainInformation(domainName=name, domainNameProtocol=protocol) for name, protocol in domains])
