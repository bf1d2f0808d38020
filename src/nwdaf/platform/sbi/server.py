"""Serve an NF's ASGI app with hypercorn: HTTP/2 cleartext (prior knowledge or upgrade) and HTTP/1.1, one port.

Why hypercorn: uvicorn has no h2c; hypercorn detects the HTTP/2 connection preface on a cleartext socket, so
``curl --http2-prior-knowledge`` and plain HTTP/1.1 clients reach the same listener (TS 29.500 clause 5.2).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from dataclasses import dataclass

from hypercorn.asyncio import serve
from hypercorn.config import Config
from starlette.types import ASGIApp

log = logging.getLogger("nwdaf.sbi.server")


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind a listening TCP socket; port 0 picks a free one (read it back from ``getsockname``)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


@dataclass
class RunningServer:
    """A served app: its URL, and how to stop it."""

    host: str
    port: int
    task: asyncio.Task[None]
    shutdown: asyncio.Event
    sock: socket.socket

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def stop(self) -> None:
        self.shutdown.set()
        try:
            await asyncio.wait_for(self.task, timeout=10)
        finally:
            self.sock.detach()  # hypercorn owns the fd it was given (fd://) and closed it on shutdown


async def start_server(app: ASGIApp, host: str = "127.0.0.1", port: int = 0, name: str = "sbi") -> RunningServer:
    """Start serving ``app`` in the background on ``host:port`` and return once the socket listens."""
    sock = bind_socket(host, port)
    config = Config()
    config.bind = [f"fd://{sock.fileno()}"]
    config.accesslog = None
    config.errorlog = logging.getLogger("nwdaf.sbi.hypercorn")
    config.graceful_timeout = 2.0
    config.keep_alive_timeout = 75.0
    shutdown = asyncio.Event()
    task = asyncio.get_running_loop().create_task(
        serve(app, config, shutdown_trigger=shutdown.wait), name=f"hypercorn-{name}"  # type: ignore[arg-type]
    )
    bound_port = sock.getsockname()[1]
    log.info("%s listening on %s:%d (h2c + HTTP/1.1)", name, host, bound_port)
    return RunningServer(host, bound_port, task, shutdown, sock)
