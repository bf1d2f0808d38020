"""The ``nwdaf`` command: run services, check configuration, run the demo and benchmarks."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import orjson
import typer

from nwdaf.app.config import ConfigError, Settings, load_settings
from nwdaf.app.inputs import StrictOpt, echo_skips
from nwdaf.platform.logs import configure_logging

if TYPE_CHECKING:
    from nwdaf.app.detect import BundleScorer

app = typer.Typer(
    help="nwdaf: a 3GPP NWDAF (TS 23.288 / TS 29.520) with UPF event exposure, MLOps and closed-loop control.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Inspect and validate the configuration.", no_args_is_help=True)
app.add_typer(config_app, name="config")


def _add_subcommands() -> None:
    from nwdaf.app.eval_cli import eval_command
    from nwdaf.app.ml_cli import ml_app
    from nwdaf.app.testbed_cli import testbed_app

    app.add_typer(testbed_app, name="testbed", help="Network-namespace testbed (root only): UEs, UPF, DN servers.")
    app.command("eval")(eval_command)
    app.add_typer(ml_app, name="ml", help="Model lifecycle: train, evaluate, list, promote, roll back (MLflow).")


_add_subcommands()

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
    """Run services until SIGINT/SIGTERM.

    \b
    upf        UPF data plane + Nupf_EventExposure + N4 session API (UPF SBI port)
    collector  Data Receiver + subscriptions to UPF/SMF/AMF event exposure
    processor  raw reports -> flow records and per-UE/slice/graph features
    storage    bus -> time series + warehouse; Data Relay (REST + SSE)
    mtlf       MLflow registry + Nnwdaf_MLModelProvision
    engines    analytics engines (ABNORMAL_BEHAVIOUR, UE_COMMUNICATION)
    anlf       Nnwdaf_EventsSubscription + Nnwdaf_AnalyticsInfo
    smf        SMF policy consumer: subscribes to ABNORMAL_BEHAVIOUR, releases sessions (SMF SBI port)

    Each NF (NWDAF, UPF, SMF) listens on its own SBI port from the config, speaking HTTP/2 cleartext and HTTP/1.1.
    """
    from nwdaf.app.runtime import serve_forever, service_names

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


@app.command("demo")
def demo(
    ctx: typer.Context,
    report: Annotated[Path | None, typer.Option("--report", help="Write the JSON report here.")] = None,
    period: Annotated[int, typer.Option("--period", min=1, help="UPF reporting period in seconds.")] = 1,
    window: Annotated[float, typer.Option("--window", min=1, help="Detection window in seconds.")] = 10.0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the synthetic population.")] = 42,
    registry: Annotated[Path, typer.Option("--registry-dir", help="Embedded MLflow registry (kept between runs; "
                                                                  "the first run trains).")] = Path(".run/demo"),
    testbed: Annotated[bool, typer.Option("--testbed", help="Real traffic in network namespaces with nmap (root).")]
    = False,
) -> None:
    """The closed loop on embedded defaults: 20 benign UEs and 2 bots through UPF -> NWDAF -> SMF -> release.

    Trains the abnormal-behaviour model first when the registry has no champion. Exits 1 if a bot was not
    released or a benign UE was.
    """
    from nwdaf.app.demo.cli import demo_command

    if testbed:
        from nwdaf.lib.testbed.netns import netns_permitted

        reason = netns_permitted()
        if reason:
            raise _fail(f"--testbed: {reason}")
    raise typer.Exit(demo_command(_settings(ctx), report, period, window, seed, registry, testbed))


@app.command("detect")
def detect_cmd(
    ctx: typer.Context,
    input_spec: Annotated[str, typer.Option("--input", "-i", help="FORMAT:PATH; FORMAT: pcap, binetflow, zeek, "
                                            "cicflow, nfstream; PATH a file, a glob or a directory. Label columns "
                                            "are ignored.")],
    window: Annotated[float, typer.Option("--window", help="Window length in seconds.")] = 60.0,
    json_out: Annotated[Path, typer.Option("--json", help="Where to write the windows report.")] = Path("detect.json"),
    model: Annotated[str | None, typer.Option("--model", help="Also score with this model: models:/NAME@ALIAS or "
                                              "models:/NAME/VERSION (MLflow registry), or a model bundle file "
                                              "(.skops). Default: rules only.")] = None,
    tracking_uri: Annotated[str | None, typer.Option("--tracking-uri", help="MLflow tracking URI for a models:/ "
                                                     "--model (default: ml.tracking_uri).")] = None,
    strict: StrictOpt = False,
) -> None:
    """Offline ABNORMAL_BEHAVIOUR detection over recorded data with the live engine code (rules, and the model
    given with --model).

    Writes {"windows": [{"start", "end", "hosts_seen", "flagged": [{"host", "score", "exceptionId"}]}]}.
    """
    from nwdaf.app.detect import detect, load_flows
    from nwdaf.lib.dataplane import PcapError
    from nwdaf.lib.flows import FORMATS, BadRowError, FlowFormatError, SkipReport
    from nwdaf.nf.engines import AbnormalBehaviourEngine

    fmt = input_spec.partition(":")[0]
    if fmt not in (*FORMATS, "pcap") or ":" not in input_spec:
        raise _fail(f"--input must be FORMAT:PATH with FORMAT one of pcap, {', '.join(FORMATS)} (got {input_spec!r})")
    if window <= 0:
        raise _fail("--window must be positive")
    settings = _settings(ctx)
    scorer = _detect_scorer(settings, model, tracking_uri, window)
    skips = SkipReport(strict=strict)
    try:
        flows = load_flows(input_spec, skips)
    except BadRowError as exc:
        raise _fail(f"--strict: {exc}") from None
    except (OSError, PcapError, FlowFormatError, ValueError) as exc:
        raise _fail(f"cannot read {input_spec}: {exc}") from None
    echo_skips(input_spec, skips)
    report = detect(flows, window, AbnormalBehaviourEngine(settings.engines.abnormal_behaviour, scorer))
    report["model"] = {"uri": scorer.uri, "version": scorer.version} if scorer is not None else None
    report["input"] = {"spec": input_spec, **skips.as_dict()}
    json_out.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    flagged = sum(len(w["flagged"]) for w in report["windows"])
    scored_by = f"rules and model {scorer.uri} ({scorer.version})" if scorer is not None else "rules"
    typer.echo(f"{len(report['windows'])} windows, {flows.height} flows, {flagged} flagged host-windows "
               f"({scored_by}) -> {json_out}")


@app.command("replay")
def replay_cmd(
    ctx: typer.Context,
    input_spec: Annotated[str, typer.Option("--input", help="FORMAT:PATH; FORMAT: pcap, binetflow, zeek, cicflow, "
                                            "nfstream (PATH may be a glob). Labels are ignored by the run.")],
    report: Annotated[Path, typer.Option("--report", help="Where to write the JSON report.")],
    speed: Annotated[float | None, typer.Option("--speed", help="Recorded seconds per wall second (default 10).")]
    = None,
    period: Annotated[int | None, typer.Option("--period", help="UPF report period, data seconds (default: "
                                               "collector config, 2).")] = None,
    window: Annotated[float | None, typer.Option("--window", help="Detection window, data seconds (default: "
                                                 "processor config, 10).")] = None,
    model: Annotated[str | None, typer.Option("--model", help="MLflow tracking URI of a registry whose champion "
                                              "model the engines use (e.g. sqlite:///mlruns/mlflow.db). Default: "
                                              "rules only.")] = None,
) -> None:
    """The whole service stack on a recording: UPF (every flow initiator a UE) -> collector -> processor ->
    engines -> Nnwdaf_EventsSubscription -> SMF -> PDU session release.

    Writes {"period_s", "speed", "hosts": [{"host", "released", "t_first_seen", "t_first_finding",
    "exception_ids", "t_released"}], "labels"} with times in epoch seconds of recording time (null where it did not
    happen); progress goes to stderr.
    """
    import tempfile

    from nwdaf.app.demo.cli import _quiet_logs
    from nwdaf.app.replay import DEFAULT_SPEED, ReplayError, ReplayOptions, replay_settings, run_replay
    from nwdaf.app.replay_report import summary_lines

    _quiet_logs(_settings(ctx))
    opts = ReplayOptions(input_spec, speed if speed is not None else DEFAULT_SPEED, period, window, model)
    with tempfile.TemporaryDirectory(prefix="nwdaf-replay-") as tmp:
        try:
            settings = replay_settings(_settings(ctx), opts, Path(tmp))
            result = asyncio.run(run_replay(settings, opts, lambda line: typer.echo(line, err=True)))
        except (ConfigError, ValueError, OSError, ReplayError) as exc:
            raise _fail(f"cannot replay {input_spec}: {exc}") from None
    report.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    for line in summary_lines(result):
        typer.echo(line, err=True)
    typer.echo(f"report written to {report}", err=True)


def _detect_scorer(
    settings: Settings, model: str | None, tracking_uri: str | None, window: float
) -> BundleScorer | None:
    """The ``--model`` of ``nwdaf detect`` loaded, or None; a clean exit 2 when it cannot be used."""
    if model is None:
        return None
    from nwdaf.app.detect import load_scorer

    try:
        scorer = load_scorer(model, tracking_uri=tracking_uri or settings.ml.tracking_uri,
                             artifact_root=settings.ml.artifact_root)
    except (OSError, LookupError, ValueError) as exc:  # BundleError is a ValueError, RegistryError a LookupError
        raise _fail(f"cannot use model {model}: {exc}") from None
    trained_s = scorer.bundle.meta.window_s
    if trained_s != window:
        typer.echo(f"nwdaf: note: model {model} was trained on {trained_s:g} s windows, detecting on {window:g} s; "
                   "counts and rates per window differ from what it learnt", err=True)
    return scorer


bench_app = typer.Typer(help="Benchmarks (the full set, with peers, is in benchmarks/; see docs/benchmarks/).",
                        no_args_is_help=True)
app.add_typer(bench_app, name="bench")


@bench_app.command("tap")
def bench_tap(
    pcap: Annotated[Path | None, typer.Option("--pcap", help="Capture to replay (default: a synthetic one).")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the figures as JSON here.")] = None,
) -> None:
    """UPF tap packets/s with full accounting vs dpkt, nfstream and Scapy on the same capture; RSS at 1 M flows."""
    from benchmarks.support.tap import run_tap_benchmark

    from nwdaf.lib.dataplane import PcapError

    if pcap is not None and not pcap.is_file():
        raise _fail(f"--pcap {pcap}: no such file")
    try:
        result = run_tap_benchmark(pcap, json_out)
    except PcapError as exc:
        raise _fail(f"cannot replay {pcap}: {exc}") from None
    if result["packets"] < 100_000:
        typer.echo(f"note: {result['packets']:,} packets is too few for stable rates (fixed costs dominate); "
                   "use a capture of 100k+ packets or omit --pcap", err=True)


def main() -> None:
    app(prog_name="nwdaf")


if __name__ == "__main__":  # pragma: no cover
    main()
