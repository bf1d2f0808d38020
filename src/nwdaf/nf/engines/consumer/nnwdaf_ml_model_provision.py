"""Client of Nnwdaf_MLModelProvision (TS 29.520 clause 4.5): the engines subscribe for an ABNORMAL_BEHAVIOUR model.

The subscription asks for no immediate report: the MTLF answers 201 and POSTs the matching champion to the
``notifUri`` right after, and again on each promotion or rollback (TS 23.288 clause 6.2A.2). Until the MTLF accepts
the subscription (it may start later than the engines, or be elsewhere) the subscribe request is repeated every
``subscribe_retry_s``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from nwdaf.platform.sbi import SbiCallError, SbiClient

log = logging.getLogger("nwdaf.anlf.engines")

API_NAME = "nnwdaf-mlmodelprovision/v1"


class MLModelProvisionSubscriber:
    """The engines' one subscription at one MTLF."""

    def __init__(self, client: SbiClient, api_root: str, notif_uri: str, exception_ids: list[str],
                 retry_s: float) -> None:
        self._client = client
        self.api_root = api_root.rstrip("/")
        self.collection = f"{self.api_root}/{API_NAME}/subscriptions"
        self.notif_uri = notif_uri
        self.exception_ids = exception_ids
        self.retry_s = retry_s

    def request(self) -> dict[str, Any]:
        """The ``NwdafMLModelProvSubsc`` the engines send."""
        return {
            "mLEventSubscs": [{"mLEvent": "ABNORMAL_BEHAVIOUR", "mLEventFilter": {"excepIds": self.exception_ids}}],
            "notifUri": self.notif_uri,
        }

    async def subscribe(self) -> bool:
        """One Nnwdaf_MLModelProvision_Subscribe; True once the MTLF created the subscription (201)."""
        try:
            resp = await self._client.post(self.collection, json=self.request())
        except SbiCallError as exc:
            log.warning("ML model provisioning unreachable: %s", exc)
            return False
        if resp.status_code == 201:
            log.info("subscribed to ML model provisioning at %s (%s)", self.api_root, resp.headers.get("location"))
            return True
        log.warning("ML model provisioning answered %d: %s", resp.status_code, resp.text[:200])
        return False

    async def run(self) -> None:
        """Subscribe, repeating every ``retry_s`` until the MTLF accepts."""
        while True:
            if await self.subscribe():
                return
            await asyncio.sleep(self.retry_s)
