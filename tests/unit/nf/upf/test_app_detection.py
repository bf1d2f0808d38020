"""APPLICATION_RELATED_INFO: domains found by nDPI (nfstream) in the replayed pcap, reported per PDU session."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from tests.unit.nf.upf.helpers import Subscriber, subscription

from nwdaf.nf.upf.appinfo import AppDetectionError
from nwdaf.nf.upf.config import UpfConfig
from nwdaf.nf.upf.processor import create_subscription
from nwdaf.nf.upf.reporting import reporting_tick
from nwdaf.nf.upf.service import create_upf_service, process_batch
from nwdaf.nf.upf.state import DataClock
from nwdaf.platform.models.upf_ee import CreateEventSubscription, NotificationData
from nwdaf.platform.sbi import ProblemError, SbiClient

pytestmark = pytest.mark.unit

pytest.importorskip("nfstream", reason="application detection needs the nfstream extra (nDPI)")

UE, DNS_SERVER, WEB = "10.45.0.2", "203.0.113.53", "203.0.113.80"
T0 = 1_700_000_000


@pytest.fixture
def app_pcap(tmp_path: Path) -> Path:
    """A DNS lookup and a TLS ClientHello with SNI from one UE, plus mDNS noise that is not an FQDN."""
    from scapy.all import DNS, DNSQR, DNSRR, IP, TCP, UDP, Ether, Raw, wrpcap
    from scapy.layers.tls.extensions import ServerName, TLS_Ext_ServerName
    from scapy.layers.tls.handshake import TLSClientHello
    from scapy.layers.tls.record import TLS

    hello = TLS(msg=[TLSClientHello(ext=[TLS_Ext_ServerName(servernames=[ServerName(servername=b"api.example.org")])])])
    frames = [
        Ether() / IP(src=UE, dst=DNS_SERVER) / UDP(sport=40000, dport=53) / DNS(id=1, rd=1, qd=DNSQR(
            qname="www.example.com")),
        Ether() / IP(src=DNS_SERVER, dst=UE) / UDP(sport=53, dport=40000) / DNS(id=1, qr=1, qd=DNSQR(
            qname="www.example.com"), an=DNSRR(rrname="www.example.com", rdata=WEB)),
        Ether() / IP(src=UE, dst=WEB) / TCP(sport=40001, dport=443, flags="S", seq=1000),
        Ether() / IP(src=WEB, dst=UE) / TCP(sport=443, dport=40001, flags="SA", seq=5000, ack=1001),
        Ether() / IP(src=UE, dst=WEB) / TCP(sport=40001, dport=443, flags="A", seq=1001, ack=5001),
        Ether() / IP(src=UE, dst=WEB) / TCP(sport=40001, dport=443, flags="PA", seq=1001, ack=5001) / Raw(
            bytes(hello)),
        Ether() / IP(src=UE, dst="224.0.0.251") / UDP(sport=5353, dport=5353) / DNS(qd=DNSQR(
            qname="_googlecast._tcp.local", qtype="PTR")),
    ]
    for i, frame in enumerate(frames):
        frame.time = T0 + 0.1 + i * 0.05
    path = tmp_path / "app.pcap"
    wrpcap(str(path), frames)
    return path


def _body(level: str = "PER_SESSION") -> CreateEventSubscription:
    event = {"type": "USER_DATA_USAGE_MEASURES", "granularityOfMeasurement": level,
             "measurementTypes": ["VOLUME_MEASUREMENT", "APPLICATION_RELATED_INFO"]}
    return CreateEventSubscription.model_validate(subscription(eventList=[event]))


async def test_domains_are_reported_per_session(app_pcap: Path) -> None:
    subscriber = Subscriber()
    client = SbiClient(transport=httpx.MockTransport(subscriber.handler))
    svc = create_upf_service(UpfConfig(source=f"pcap:{app_pcap}", app_detection=True, notify_backoff_s=0), client)
    assert svc.ctx.app_info is not None
    assert svc.source is not None
    svc.ctx.clock = DataClock(live=False)
    svc.ctx.sessions.establish("imsi-001010000000001", 1, ue_ipv4=UE)
    await asyncio.to_thread(svc.ctx.app_info.run)
    await create_subscription(svc.ctx, _body())
    for batch in svc.source.batches():
        process_batch(svc.ctx, batch)
    assert await reporting_tick(svc.ctx)
    await asyncio.wait_for(next(iter(svc.ctx.notifier.channels.values())).wait_idle(), 5)
    (note,) = subscriber.received
    NotificationData.model_validate(note)
    (m,) = note["notificationItems"][0]["userDataUsageMeasurements"]
    assert m["applicationRelatedInformation"]["domainInfoList"] == [
        {"domainName": "www.example.com", "domainNameProtocol": "DNS_QNAME"},
        {"domainName": "api.example.org", "domainNameProtocol": "TLS_SNI"},
    ]
    assert m["volumeMeasurement"]["totalNbOfPackets"] == 7
    with pytest.raises(ProblemError, match="PER_SESSION"):
        await create_subscription(svc.ctx, _body("PER_FLOW"))
    await svc.ctx.notifier.close_all()


def test_app_detection_needs_a_pcap_source() -> None:
    with pytest.raises(AppDetectionError, match="pcap source"):
        create_upf_service(UpfConfig(source="synthetic:benign", app_detection=True), SbiClient())
