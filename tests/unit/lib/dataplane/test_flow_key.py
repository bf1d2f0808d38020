"""The one flow-key codec: FlowKeys.packed / FlowKeys.unpack, IPv4 and IPv6, and the UPF's reading of it."""

from __future__ import annotations

import numpy as np
import pytest

from nwdaf.lib.dataplane.batch import format_ips, parse_ips
from nwdaf.lib.dataplane.flows import FLOW_KEY_WIDTH, FlowKeys
from nwdaf.nf.upf.reports import flow_information

pytestmark = pytest.mark.unit

UE = ["10.45.0.2", "2001:db8:1::5", "10.45.0.3"]
REMOTE = ["93.184.216.34", "2606:4700::1111", "8.8.8.8"]


def _keys() -> FlowKeys:
    return FlowKeys(session=np.array([0, 7, (1 << 23) - 1], np.int32), proto=np.array([6, 17, 1], np.uint8),
                    ue_addr=parse_ips(UE), ue_port=np.array([51000, 5353, 0], np.uint16),
                    remote_addr=parse_ips(REMOTE), remote_port=np.array([443, 53, 0], np.uint16))


def test_pack_then_unpack_gives_the_same_keys_for_v4_and_v6() -> None:
    keys = _keys()
    packed = keys.packed()
    assert packed.shape == (3, FLOW_KEY_WIDTH)
    assert packed.dtype == np.uint64
    back = FlowKeys.unpack(packed)
    for name in ("session", "proto", "ue_addr", "ue_port", "remote_addr", "remote_port"):
        assert np.array_equal(getattr(back, name), getattr(keys, name)), name
        assert getattr(back, name).dtype == getattr(keys, name).dtype, name
    assert format_ips(back.ue_addr) == UE
    assert format_ips(back.remote_addr) == REMOTE
    assert np.array_equal(back.packed(), packed)


def test_unpack_ignores_appended_columns_and_rejects_short_ones() -> None:
    packed = _keys().packed()
    with_app = np.column_stack([packed, np.array([3, 4, 5], np.uint64)])
    assert np.array_equal(FlowKeys.unpack(with_app).packed(), packed)
    with pytest.raises(ValueError, match="5 columns"):
        FlowKeys.unpack(packed[:, :4])


def test_the_upf_reports_the_flow_the_data_plane_keyed() -> None:
    packed = _keys().packed()
    v4, v6, icmp = (flow_information(row).flowDescription for row in packed.tolist())
    assert v4 == "permit out 6 from 93.184.216.34 443 to 10.45.0.2 51000"
    assert v6 == "permit out 17 from 2606:4700::1111 53 to 2001:db8:1::5 5353"
    assert icmp == "permit out 1 from 8.8.8.8 to 10.45.0.3"
