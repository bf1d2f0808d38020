"""Logging set-up: one logger per service (``nwdaf.<nf>``), request IDs on every line, optional JSON lines."""

from __future__ import annotations

import logging
import sys

import orjson

from nwdaf.platform.config import LoggingSettings
from nwdaf.platform.sbi.observability import RequestIdFilter

_STRUCTURED = ("supi", "pdu_session_id", "subscription_id", "correlation_id", "request_id")


class JsonFormatter(logging.Formatter):
    """One JSON object per line with the structured fields the services attach via ``extra=``."""

    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in _STRUCTURED:
            value = getattr(record, name, None)
            if value not in (None, "-"):
                doc[name] = value
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(doc).decode()


def configure_logging(settings: LoggingSettings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    if settings.json_logs:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"))
    root = logging.getLogger("nwdaf")
    root.handlers[:] = [handler]
    root.setLevel(settings.level)
    root.propagate = False
