"""The ``nwdaf`` command: run services, check configuration, run the demo and benchmarks."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer

from nwdaf.config import ConfigError, Settings, load_settings
from nwdaf.logs import configure_logging

app = typer.Typer(
    help="nwdaf: a 3GPP NWDAF (TS 23.288 / TS 29.520) with UPF event exposure, MLOps and closed-loop control.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Inspect and validate the configuration.", no_args_is_help=True)
app.add_typer(config_app, name="config")

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="YAML config file (see config/nwdaf.example.yaml). NWDAF_* env overrides."),
]


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"nwdaf: {message}", err=True)
    return typer.Exit(code)


def _settings(ctx: typer.Context) -> Settings:
    settings = ctx.obj
    assert isinstance(settings, Settings)
    return settings


@app.callback()
def main_options(ctx: typer.Context, config: ConfigOpt = None) -> None:
    """Load and validate the configuration once; every subcommand receives it."""
    try:
        ctx.obj = load_settings(config)
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    configure_logging(ctx.obj.logging)


@config_app.command("check")
def config_check(ctx: typer.Context) -> None:
    """Validate the configuration and say so (errors name the field and exit 2)."""
    settings = _settings(ctx)
    typer.echo(f"configuration OK: bus={settings.bus.url} warehouse={settings.storage.warehouse_url}")


@config_app.command("show")
def config_show(ctx: typer.Context) -> None:
    """Print the effective configuration (file + environment + defaults) as JSON."""
    typer.echo(orjson.dumps(_settings(ctx).model_dump(mode="json"), option=orjson.OPT_INDENT_2).decode())


@app.command("run")
def run(
    ctx: typer.Context,
    services: Annotated[list[str], typer.Argument(help="Services to run, or 'all' for every NF in one process.")],
) -> None:
    """Run services until SIGINT/SIGTERM. Services: collector (Data Receiver + NF event exposure consumers).

    Each NF (NWDAF, UPF, SMF) listens on its own SBI port from the config, speaking HTTP/2 cleartext and HTTP/1.1.
    """
    from nwdaf.runtime import serve_forever, service_names

    names = list(services)
    known = [*service_names(), "all"]
    bad = [n for n in names if n not in known]
    if bad or ("all" in names and len(names) > 1):
        raise _fail(f"unknown service(s) {bad or names}; choose from {', '.join(known)}")

    async def _main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve_forever(_settings(ctx), names, stop)

    try:
        asyncio.run(_main())
    except OSError as exc:
        raise _fail(f"cannot start: {exc}", 1) from None


def main() -> None:
    app(prog_name="nwdaf")


if __name__ == "__main__":  # pragma: no cover
    main()
