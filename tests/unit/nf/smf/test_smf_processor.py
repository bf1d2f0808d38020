"""SMF policy procedures: guardrails, one audited decision per UE, releases through the UPF."""

from __future__ import annotations

import json
from typing import Any

import pytest

from nwdaf.nf.smf.audit import Decision
from nwdaf.platform.sbi import ProblemError

pytestmark = pytest.mark.unit

BOT, FRIEND, GHOST = "imsi-001010000000001", "imsi-001010000000009", "imsi-001010000000404"


async def _decisions(policy: Any, processor: Any, body: Any) -> dict[str, Decision]:
    await processor.notify(policy.parse(body))
    await processor.idle()
    return {e.supi: e.decision for e in processor.audit.entries()}


async def test_bot_is_released_and_audited(policy: Any, upf: Any, make_notification: Any,
                                           make_behaviour: Any) -> None:
    upf.add(11, BOT)
    upf.add(12, BOT)
    upf.add(13, BOT, state="RELEASED")
    processor = policy()
    assert await _decisions(policy, processor, make_notification(make_behaviour(BOT))) == {BOT: Decision.RELEASED}
    assert sorted(upf.deleted) == [11, 12]
    (entry,) = processor.audit.entries()
    assert entry.seids == [11, 12]
    assert entry.notification["subscriptionId"] == "sub-1"
    assert entry.notification["abnorBehavr"]["supis"] == [BOT]
    assert entry.notification["timeStampGen"] == "2026-01-01T00:00:00Z"
    lines = processor.audit.path.read_text().splitlines()
    assert [json.loads(line)["decision"] for line in lines] == ["released"]


async def test_allowlist_confidence_unknown_and_released_ues(policy: Any, upf: Any, make_notification: Any,
                                                             make_behaviour: Any) -> None:
    upf.add(1, FRIEND)
    upf.add(2, "imsi-001010000000002")
    upf.add(3, "imsi-001010000000003", state="RELEASED")
    processor = policy(allowlist=[FRIEND], min_confidence=80)
    body = make_notification(
        make_behaviour(FRIEND),
        make_behaviour("imsi-001010000000002", confidence=40),
        make_behaviour("imsi-001010000000005", confidence=None),
        make_behaviour("imsi-001010000000003"),
        make_behaviour(GHOST),
        make_behaviour("imsi-001010000000006", excep="UNEXPECTED_UE_LOCATION"),
    )
    assert await _decisions(policy, processor, body) == {
        FRIEND: Decision.SKIPPED_ALLOWLIST,
        "imsi-001010000000002": Decision.BELOW_CONFIDENCE,
        "imsi-001010000000005": Decision.BELOW_CONFIDENCE,
        "imsi-001010000000003": Decision.NO_ACTIVE_SESSION,
        GHOST: Decision.UNKNOWN_UE,
        "imsi-001010000000006": Decision.SKIPPED_EXCEPTION,
    }
    assert upf.deleted == []


async def test_rate_cap_and_dry_run(policy: Any, upf: Any, make_notification: Any, make_behaviour: Any) -> None:
    supis = [f"imsi-00101000000010{n}" for n in range(4)]
    for seid, supi in enumerate(supis):
        upf.add(seid, supi)
    capped = policy(max_releases_per_minute=2, audit_file="capped.jsonl")
    decisions = await _decisions(policy, capped, make_notification(*(make_behaviour(s) for s in supis)))
    assert [decisions[s] for s in supis] == [Decision.RELEASED, Decision.RELEASED,
                                             Decision.SKIPPED_RATE_CAP, Decision.SKIPPED_RATE_CAP]
    assert sorted(upf.deleted) == [0, 1]

    dry = policy(dry_run=True, audit_file="dry.jsonl")
    assert await _decisions(policy, dry, make_notification(make_behaviour(supis[3]))) == {supis[3]: Decision.DRY_RUN}
    assert dry.audit.entries()[0].seids == [3]
    assert sorted(upf.deleted) == [0, 1]


async def test_upf_failure_is_audited_not_raised(policy: Any, upf: Any, make_notification: Any,
                                                 make_behaviour: Any) -> None:
    upf.fail_lookups = True
    processor = policy()
    assert await _decisions(policy, processor, make_notification(make_behaviour(BOT))) == {BOT: Decision.RELEASE_FAILED}
    assert "500" in processor.audit.entries()[0].reason


@pytest.mark.parametrize(("body", "param"), [
    ([], "/"),
    ("text", "/"),
    ([{"subscriptionId": "sub-1"}], "/0"),
    ([{"subscriptionId": "sub-1", "eventNotifications": [{"event": "NOT_AN_EVENT"}]}],
     "/0/eventNotifications/0/event"),
    ([{"subscriptionId": "sub-1", "eventNotifications": [
        {"event": "ABNORMAL_BEHAVIOUR", "abnorBehavrs": [{"supis": ["imsi-1"]}]}]}],
     "/0/eventNotifications/0/abnorBehavrs/0/excep"),
])
async def test_invalid_notifications_are_400(policy: Any, body: Any, param: str) -> None:
    processor = policy()
    with pytest.raises(ProblemError) as exc:
        await processor.notify(policy.parse(body))
    assert exc.value.status == 400
    assert param in [p.param for p in exc.value.invalid_params]


async def test_notification_for_a_foreign_subscription_is_404(policy: Any, make_notification: Any,
                                                              make_behaviour: Any) -> None:
    processor = policy()
    with pytest.raises(ProblemError) as exc:
        await processor.notify(policy.parse(make_notification(make_behaviour(BOT), subscription_id="someone-else")))
    assert (exc.value.status, exc.value.cause) == (404, "SUBSCRIPTION_NOT_FOUND")


async def test_single_object_body_is_tolerated(policy: Any, upf: Any, make_notification: Any,
                                               make_behaviour: Any) -> None:
    upf.add(1, BOT)
    processor = policy()
    assert await _decisions(policy, processor, make_notification(make_behaviour(BOT))[0]) == {BOT: Decision.RELEASED}


async def test_full_queue_is_503(policy: Any, make_notification: Any, make_behaviour: Any) -> None:
    processor = policy(queue_size=1)
    await processor.stop()  # no worker: the queue cannot drain
    await processor.notify(policy.parse(make_notification(make_behaviour(BOT))))
    with pytest.raises(ProblemError) as exc:
        await processor.notify(policy.parse(make_notification(make_behaviour(BOT))))
    assert exc.value.status == 503
