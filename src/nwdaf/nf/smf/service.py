"""SMF policy consumer wiring: the callback router, the NWDAF subscription and the UPF client."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter

from nwdaf.nf.smf.api.callbacks import API_ROOT, NOTIFICATIONS_PATH, create_router
from nwdaf.nf.smf.audit import AuditLog
from nwdaf.nf.smf.config import SmfSettings
from nwdaf.nf.smf.consumer.nnwdaf_events_subscription import NnwdafEventsSubscriptionClient
from nwdaf.nf.smf.consumer.upf_n4 import UpfN4Client
from nwdaf.nf.smf.processor import PolicyProcessor
from nwdaf.nf.smf.state import NwdafSubscriptionState, ReleaseRateLimiter
from nwdaf.nf.smf.subscriber import NwdafSubscriber, subscription_request
from nwdaf.platform.config import CoreSettings
from nwdaf.platform.models.openapi import SpecValidator
from nwdaf.platform.nf import ServiceContext
from nwdaf.platform.sbi import SbiClient


@dataclass
class SmfService:
    """The SMF's closed-loop policy: subscribes to the NWDAF at start, acts on its notifications."""

    settings: CoreSettings
    smf: SmfSettings
    client: SbiClient
    base_urls: dict[str, str]
    """The runtime's map of bound NF addresses (filled before :meth:`start`)."""
    processor: PolicyProcessor
    audit: AuditLog
    validator: SpecValidator | None
    name: str = "smf"
    subscriber: NwdafSubscriber | None = field(default=None, init=False)

    def routers(self) -> list[tuple[str, APIRouter]]:
        return [(API_ROOT, create_router(self.processor, self.audit, self.validator))]

    def _root(self, configured: str, nf: str, fallback: str) -> str:
        return configured or self.base_urls.get(nf) or fallback

    async def start(self) -> None:
        s = self.settings
        self.processor.upf = UpfN4Client(self.client, self._root(self.smf.upf_api_root, "upf", s.upf_sbi.base_url()))
        callback = self._root(self.smf.callback_api_root, "smf", s.smf_sbi.base_url()) + API_ROOT + NOTIFICATIONS_PATH
        nwdaf = NnwdafEventsSubscriptionClient(
            self.client, self._root(self.smf.nwdaf_api_root, "nwdaf", s.nwdaf_sbi.base_url()))
        request = subscription_request(self.smf, callback, s.instance_id)
        self.subscriber = NwdafSubscriber(self.smf, nwdaf, self.processor.subscription, self.processor, request)
        self.processor.start()
        self.subscriber.start()

    async def stop(self) -> None:
        if self.subscriber is not None:
            await self.subscriber.stop()
        await self.processor.stop()


def build_smf(ctx: ServiceContext, smf: SmfSettings) -> SmfService:
    """Runtime builder; ``smf`` overrides the ``smf`` section (tests)."""
    audit = AuditLog(ctx.settings.data_dir / smf.audit_file if smf.audit_file else None, smf.audit_memory)
    upf = UpfN4Client(ctx.client, smf.upf_api_root or ctx.settings.upf_sbi.base_url())
    processor = PolicyProcessor(smf, upf, audit, NwdafSubscriptionState(),
                                ReleaseRateLimiter(smf.max_releases_per_minute))
    return SmfService(ctx.settings, smf, ctx.client, ctx.base_urls, processor, audit, ctx.validator)
