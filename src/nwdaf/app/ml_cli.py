"""``nwdaf ml``: train, evaluate, list, promote and roll back models in the MLflow registry of ``ml.tracking_uri``.

A running MTLF polls the registry (``poll_s``), so a promotion or rollback made here reaches its
``Nnwdaf_MLModelProvision`` subscribers without a restart.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer

from nwdaf.app.config import Settings
from nwdaf.app.inputs import StrictOpt, echo_skips

if TYPE_CHECKING:
    from nwdaf.lib.flows import SkipReport
    from nwdaf.nf.mtlf.train import TrainResult

ml_app = typer.Typer(help="Model lifecycle: train, evaluate, list, promote, roll back.", no_args_is_help=True)

InputsOpt = Annotated[list[str], typer.Option(
    "--input", "-i", help="Labelled FORMAT:PATH (binetflow, zeek, cicflow, nfstream; a glob or a directory "
    "works); repeat to combine datasets.")]
JsonOpt = Annotated[Path | None, typer.Option("--json", help="Also write the result as JSON here.")]
TrainInputsOpt = Annotated[list[str] | None, typer.Option(
    "--input", "-i", help="Labelled FORMAT:PATH (binetflow, zeek, cicflow, nfstream; a glob or a directory "
    "works); repeat to combine datasets. Needed unless --warehouse is given (both combine).")]
WarehouseOpt = Annotated[str | None, typer.Option(
    "--warehouse", help="Read flow records from this storage URL (chdb://PATH, clickhouse://host:port/db) "
    "between --start and --end.")]
StartOpt = Annotated[str | None, typer.Option(
    "--start", help="First instant of the warehouse range, ISO 8601 with offset (2026-01-01T00:00:00Z).")]
EndOpt = Annotated[str | None, typer.Option("--end", help="End of the warehouse range (exclusive), ISO 8601.")]
LabelsOpt = Annotated[Path | None, typer.Option(
    "--labels", help="CSV host,label[,label_detail,start,end]: labels of the flows each host initiated (the live "
    "records in the warehouse carry none); overrides a flow's own label where a row matches.")]
GroupByOpt = Annotated[str, typer.Option(
    "--group-by", help="CV and hold-out groups: auto (host+window, else host, else window), host+window, host, "
    "window.")]
HostColOpt = Annotated[str, typer.Option(
    "--host-col", help="Host column: src_ip (with graph features) or supi (UPF per-UE records).")]
NJobsOpt = Annotated[int, typer.Option(
    "--n-jobs", help="Threads for the forests and SMOTE's neighbour search (-1 = every core).")]


def _settings(ctx: typer.Context) -> Settings:
    obj = ctx.find_root().obj
    assert isinstance(obj, Settings)
    return obj


def _fail(message: str) -> typer.Exit:
    typer.echo(f"nwdaf ml: {message}", err=True)
    return typer.Exit(2)


def _write(path: Path | None, payload: Any) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        options = orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
        path.write_bytes(orjson.dumps(payload, option=options, default=str))
        typer.echo(f"written to {path}")


def _registry(settings: Settings) -> Any:
    from nwdaf.nf.mtlf.registry import ModelRegistry

    return ModelRegistry(settings.ml.tracking_uri, settings.ml.artifact_root)


@ml_app.command("train")
def train_cmd(
    ctx: typer.Context,
    inputs: TrainInputsOpt = None,
    kind: Annotated[str, typer.Option(help="host_window (per host per window, what the live engine scores) "
                                      "or flow (per flow record).")] = "host_window",
    window: Annotated[float | None, typer.Option(
        help="Window length in seconds (host_window); default: the processor's window (processor.window_s), "
        "the windows the live engine scores.")] = None,
    target_fpr: Annotated[float, typer.Option(
        help="Operating threshold: at most this share of the benign hosts of any held-out window flagged.")] = 0.001,
    candidates: Annotated[str, typer.Option(help="Comma-separated: random_forest, hist_gradient_boosting, "
                                            "logistic_regression.")] = "random_forest,hist_gradient_boosting,"
                                                                       "logistic_regression",
    samplers: Annotated[str, typer.Option(help="Comma-separated: smote, undersample, smoteenn.")] =
        "smote,undersample,smoteenn",
    splits: Annotated[int, typer.Option(help="Cross-validation folds (group-aware).")] = 5,
    max_rows: Annotated[int | None, typer.Option(help="Keep at most this many rows (whole groups).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    model_name: Annotated[str | None, typer.Option(help="Registered model name (default per kind).")] = None,
    promote: Annotated[bool, typer.Option(help="Make the new version the champion (else it is challenger).")] =
        False,
    register: Annotated[bool, typer.Option(help="Log and register in MLflow.")] = True,
    json_out: JsonOpt = None,
    warehouse: WarehouseOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    labels: LabelsOpt = None,
    group_by: GroupByOpt = "auto",
    host_col: HostColOpt = "src_ip",
    n_jobs: NJobsOpt = -1,
    strict: StrictOpt = False,
) -> None:
    """Train the ABNORMAL_BEHAVIOUR model: resampling and candidates chosen by group-aware CV, calibrated,
    reported (metrics, confusion matrix, PR curve) and registered as challenger (or champion with --promote)."""
    from nwdaf.lib.flows import SkipReport

    settings = _settings(ctx)
    skips = SkipReport(strict=strict)
    result = _train(settings, skips, kind=kind, window_s=settings.processor.window_s if window is None else window,
                    target_fpr=target_fpr, candidates=_csv(candidates),
                    samplers=_csv(samplers), n_splits=splits, max_rows=max_rows, seed=seed, model_name=model_name,
                    register_model=register,
                    **_data_options(inputs, warehouse, start, end, labels, group_by=group_by, host_col=host_col,
                                    n_jobs=n_jobs))
    if inputs:
        echo_skips(", ".join(inputs), skips)
    _report_training(settings, result, promote, json_out)


def _data_options(
    inputs: list[str] | None, warehouse: str | None, start: str | None, end: str | None, labels: Path | None,
    **more: Any,
) -> dict[str, Any]:
    """The ``TrainConfig`` fields of the data options (dataset imports and/or a warehouse range, a labels file)
    and ``more`` (grouping, host column, threads). Missing data, a range without --warehouse or a missing labels
    file is a clean CLI error."""
    if not inputs and warehouse is None:
        raise _fail("no training data: give -i FORMAT:PATH and/or --warehouse URL --start ISO --end ISO")
    if warehouse is None and (start is not None or end is not None):
        raise _fail("--start/--end select warehouse records: add --warehouse URL")
    if warehouse is not None and (start is None or end is None):
        raise _fail("--warehouse needs --start and --end (ISO 8601 with a UTC offset)")
    if labels is not None and not labels.is_file():
        raise _fail(f"labels file {labels} not found")
    values: dict[str, Any] = {"inputs": inputs or [], "labels_file": labels, **more}
    if warehouse is not None:
        values |= {"warehouse_url": warehouse, "start": start, "end": end}
    return values


def _train(settings: Settings, skips: SkipReport, **config_values: Any) -> TrainResult:
    """Validate the ``TrainConfig`` fields and train; bad input (a malformed row with ``--strict``) or a failed
    training is a clean CLI error."""
    from pydantic import ValidationError

    from nwdaf.lib.flows import BadRowError
    from nwdaf.nf.mtlf.train import train
    from nwdaf.nf.mtlf.train.config import TrainConfig

    try:
        config = TrainConfig.from_settings(settings, **config_values)
    except ValidationError as exc:
        raise _fail(_first_error(exc)) from None
    try:
        return train(config, skips=skips)
    except BadRowError as exc:
        raise _fail(f"--strict: {exc}") from None
    except (OSError, ValueError, LookupError) as exc:
        raise _fail(f"training failed: {exc}") from None


def _report_training(settings: Settings, result: TrainResult, promote: bool, json_out: Path | None) -> None:
    """Print the selection and held-out scores, promote when asked, write the JSON result."""
    test = result.metrics.get("test", {})
    typer.echo(f"selected {result.selected.candidate}+{result.selected.sampler} (CV F1 {result.selected.f1:.3f}); "
               f"held-out F1 {test.get('f1', float('nan')):.3f} MCC {test.get('mcc', float('nan')):.3f}; "
               f"report in {result.report_dir}")
    choice, fpr = result.metrics.get("threshold", {}), result.metrics.get("test_window_fpr", {})
    typer.echo(f"operating threshold {choice.get('threshold', float('nan')):.4f} (target <= "
               f"{100 * choice.get('target_fpr', float('nan')):g} % of benign hosts per window, chosen on "
               f"{choice.get('benign_windows')} held-out benign windows); held-out benign hosts flagged per window: "
               f"worst {_share(fpr.get('worst'))}, mean {_share(fpr.get('mean'))}")
    if choice.get("attainable") is False:
        typer.echo("warning: no threshold meets the target (a benign held-out row scored 1.0): the model will "
                   "flag nothing; add benign traffic", err=True)
    if result.version is not None:
        typer.echo(f"registered {result.model_name} v{result.version}")
        if promote:
            info = _registry(settings).promote(result.model_name, result.version)
            typer.echo(f"promoted {result.model_name} v{info.version} to champion")
    _write(json_out, {"model_name": result.model_name, "version": result.version, "sha256": result.sha256,
                      "metrics": result.metrics, "timings": result.timings})


@ml_app.command("evaluate")
def evaluate_cmd(
    ctx: typer.Context,
    model: Annotated[str, typer.Option("--model", help="models:/NAME/VERSION, models:/NAME@champion, an "
                                       "mLModelUrl (http...?sha256=) or a .skops file.")],
    inputs: InputsOpt,
    threshold: Annotated[float | None, typer.Option(help="Decision threshold (default: the model's).")] = None,
    json_out: JsonOpt = None,
    strict: StrictOpt = False,
) -> None:
    """Per-class precision, recall, F1, MCC (and per host where hosts exist) of a model on labelled data."""
    from nwdaf.lib.flows import BadRowError, SkipReport
    from nwdaf.nf.mtlf.train.evaluate import evaluate

    settings = _settings(ctx)
    skips = SkipReport(strict=strict)
    try:
        result = evaluate(model, inputs, tracking_uri=settings.ml.tracking_uri,
                          artifact_root=settings.ml.artifact_root, threshold=threshold, skips=skips)
    except BadRowError as exc:
        raise _fail(f"--strict: {exc}") from None
    except (OSError, ValueError, LookupError) as exc:
        raise _fail(f"cannot evaluate {model}: {exc}") from None
    echo_skips(", ".join(inputs), skips)
    result["input_rows"] = skips.as_dict()
    typer.echo(f"{result['rows']} rows ({result['positives']} malicious): F1 {result['f1']:.3f} "
               f"MCC {result['mcc']:.3f} precision {result['per_class']['malicious']['precision']:.3f} "
               f"recall {result['per_class']['malicious']['recall']:.3f} at threshold {result['threshold']:.4f}")
    fpr = result.get("window_fpr", {})
    typer.echo(f"benign hosts flagged per window: worst {_share(fpr.get('worst'))}, mean {_share(fpr.get('mean'))}, "
               f"{fpr.get('windows_with_fp', 0)} of {fpr.get('windows', 0)} windows with any")
    _write(json_out, result)


@ml_app.command("models")
def models_cmd(ctx: typer.Context, json_out: JsonOpt = None) -> None:
    """Registered models with their versions and aliases (champion, challenger)."""
    registry = _registry(_settings(ctx))
    rows = [{"name": m["name"], "versions": [v.to_dict() for v in registry.versions(m["name"])]}
            for m in registry.models()]
    for model in rows:
        for v in model["versions"]:
            aliases = ",".join(v.get("aliases", [])) or "-"
            typer.echo(f"{model['name']:<36} v{v['version']:<4} {aliases:<20} {v.get('runId') or ''}")
    if not rows:
        typer.echo("no registered models")
    _write(json_out, rows)


@ml_app.command("promote")
def promote_cmd(ctx: typer.Context, name: str, version: str) -> None:
    """Make VERSION of model NAME the champion (subscribers of a running MTLF are notified)."""
    from nwdaf.nf.mtlf.registry import RegistryError

    try:
        info = _registry(_settings(ctx)).promote(name, version)
    except RegistryError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"{name}: champion is now v{info.version}")


@ml_app.command("rollback")
def rollback_cmd(ctx: typer.Context, name: str) -> None:
    """Restore the previous champion of model NAME (subscribers of a running MTLF are notified)."""
    from nwdaf.nf.mtlf.registry import RegistryError

    try:
        info = _registry(_settings(ctx)).rollback(name)
    except RegistryError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"{name}: rolled back, champion is now v{info.version}")


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f} %"


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _first_error(exc: Any) -> str:
    err = exc.errors()[0]
    return f"{'.'.join(str(p) for p in err['loc']) or 'input'}: {err['msg']}"
