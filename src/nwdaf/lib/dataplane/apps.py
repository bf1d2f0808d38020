"""Application identification by well-known port (a small, explicit port map)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from nwdaf.lib.dataplane.batch import PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP

UNKNOWN_APP = "unknown"

_BOTH: dict[int, str] = {
    53: "dns", 22: "ssh", 23: "telnet", 25: "smtp", 587: "smtp", 465: "smtps", 110: "pop3", 995: "pop3s",
    143: "imap", 993: "imaps", 21: "ftp", 20: "ftp", 80: "http", 8080: "http-proxy", 3128: "http-proxy",
    8000: "http", 1883: "mqtt", 8883: "mqtts", 6667: "irc", 6697: "irc", 3389: "rdp", 5060: "sip",
    445: "smb", 139: "netbios", 554: "rtsp", 1935: "rtmp", 853: "dot", 5222: "xmpp", 3306: "mysql",
    5432: "postgresql", 6379: "redis", 27017: "mongodb", 1194: "openvpn",
}
_TCP_ONLY: dict[int, str] = {443: "https", 8443: "https"}
_UDP_ONLY: dict[int, str] = {
    443: "quic", 123: "ntp", 67: "dhcp", 68: "dhcp", 161: "snmp", 162: "snmp", 137: "netbios", 138: "netbios",
    5683: "coap", 5684: "coaps", 1900: "ssdp", 5353: "mdns", 500: "ipsec", 4500: "ipsec", 51820: "wireguard",
    3478: "stun", 2152: "gtpu",
}

APPLICATIONS: tuple[str, ...] = tuple(
    dict.fromkeys([UNKNOWN_APP, "icmp", *_BOTH.values(), *_TCP_ONLY.values(), *_UDP_ONLY.values()])
)
APP_ID = {name: i for i, name in enumerate(APPLICATIONS)}


def _table(*maps: dict[int, str]) -> NDArray[np.uint8]:
    table = np.zeros(65536, np.uint8)
    for m in maps:
        for port, name in m.items():
            table[port] = APP_ID[name]
    return table


_TCP_TABLE = _table(_BOTH, _TCP_ONLY)
_UDP_TABLE = _table(_BOTH, _UDP_ONLY)


def app_ids(proto: NDArray[np.uint8], server_port: NDArray[np.uint16],
            client_port: NDArray[np.uint16]) -> NDArray[np.uint8]:
    """Application id per flow: the server-side port decides, then the client-side one."""
    tcp = proto == PROTO_TCP
    udp = proto == PROTO_UDP
    table = np.where(tcp[:, None], _TCP_TABLE[np.stack([server_port, client_port], 1)],
                     _UDP_TABLE[np.stack([server_port, client_port], 1)])
    by_port = np.where(table[:, 0] != 0, table[:, 0], table[:, 1])
    out = np.where(tcp | udp, by_port, 0)
    out = np.where((proto == PROTO_ICMP) | (proto == PROTO_ICMPV6), APP_ID["icmp"], out)
    result: NDArray[np.uint8] = out.astype(np.uint8)
    return result


def app_name(app_id: int) -> str:
    """Application name of an id from :func:`app_ids`."""
    return APPLICATIONS[app_id]
