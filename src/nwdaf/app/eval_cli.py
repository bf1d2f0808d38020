"""The ``nwdaf eval`` command (see :mod:`nwdaf.app.eval`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer

from nwdaf.app.config import Settings


def eval_command(
    ctx: typer.Context,
    datasets: Annotated[Path, typer.Option("--datasets", help="The shared labelled datasets folder (its README "
                                           "describes the files).")] = Path("../shared/datasets"),
    window: Annotated[float, typer.Option("--window", help="Window length in seconds.")] = 60.0,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the full result as JSON here.")] = None,
    markdown: Annotated[Path | None, typer.Option("--markdown", help="Also write the tables as markdown here.")]
    = None,
    model: Annotated[str | None, typer.Option("--model", help="Also score with this model (models:/NAME@ALIAS, "
                                              "models:/NAME/VERSION or a bundle file). Default: rules only.")] = None,
    tracking_uri: Annotated[str | None, typer.Option("--tracking-uri", help="MLflow tracking URI for models:/.")]
    = None,
    only: Annotated[list[str] | None, typer.Option("--only", help="Evaluate only this dataset (repeatable).")] = None,
) -> None:
    """Score ABNORMAL_BEHAVIOUR detection over every labelled dataset: host recall per active window, flow
    recall, worst/mean share of non-attacker hosts flagged per window, verified-normal hosts flagged."""
    from nwdaf.app.detect import load_scorer
    from nwdaf.app.eval import markdown_table, run_eval
    from nwdaf.nf.engines import AbnormalBehaviourEngine

    if not datasets.is_dir():
        raise typer.Exit(_fail(f"datasets folder {datasets} not found (--datasets)"))
    if window <= 0:
        raise typer.Exit(_fail("--window must be positive"))
    settings = ctx.obj
    assert isinstance(settings, Settings)
    scorer = None
    if model is not None:
        try:
            scorer = load_scorer(model, tracking_uri=tracking_uri or settings.ml.tracking_uri,
                                 artifact_root=settings.ml.artifact_root)
        except (OSError, LookupError, ValueError) as exc:
            raise typer.Exit(_fail(f"cannot use model {model}: {exc}")) from None
    engine = AbnormalBehaviourEngine(settings.engines.abnormal_behaviour, scorer)
    result = run_eval(datasets, window, engine, only or (), progress=lambda m: typer.echo(m, err=True))
    result["model"] = {"uri": scorer.uri, "version": scorer.version} if scorer is not None else None
    title = f"rules + model {scorer.uri}" if scorer is not None else "rules"
    table = markdown_table(result, title)
    typer.echo(table)
    if json_out is not None:
        json_out.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    if markdown is not None:
        markdown.write_text(table)


def _fail(message: str) -> int:
    typer.echo(f"nwdaf: error: {message}", err=True)
    return 2
