"""``nwdaf ml train`` / ``ml evaluate`` follow the one bad-row policy: malformed rows of the imports are skipped and
summarised on stderr, ``--strict`` stops at the first with exit code 2 and no traceback."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

import nwdaf.nf.mtlf.train
from nwdaf.app.cli import app
from nwdaf.nf.mtlf.train.config import TrainConfig
from nwdaf.nf.mtlf.train.dataset import gather_flows, load_flows

pytestmark = pytest.mark.unit

HEADER = "StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,TotPkts,TotBytes,SrcBytes,Label"
GOOD = "2011/08/18 15:47:57.98,0.1,udp,10.0.0.1,1025,<->,10.0.0.2,53,CON,2,203,64,flow=From-Botnet-1"


@pytest.fixture
def flows_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NWDAF_DATA_DIR", str(tmp_path))
    path = tmp_path / "a.binetflow"
    path.write_text("\n".join([HEADER, GOOD, GOOD.replace(",1025,", ",0xzz,"), GOOD.replace("udp", "")]) + "\n")
    return path


def fake_train(config: TrainConfig, skips: Any = None) -> Any:
    frame, _ = gather_flows(config.inputs, None, skips=skips)  # the reading path of the real training
    return SimpleNamespace(model_name="m", version=None, sha256="ab" * 32, timings={}, metrics={"test": {}},
                           report_dir=Path("r"), selected=SimpleNamespace(candidate="c", sampler="s", f1=1.0),
                           rows=frame.height)


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_train_skips_and_summarises(flows_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nwdaf.nf.mtlf.train, "train", fake_train)
    code, out = invoke("ml", "train", "-i", f"binetflow:{flows_file.parent}", "--no-register")
    assert code == 0, out
    assert ("skipped 2 of 3 rows: column proto: missing value ×1 (line 4); column src_port: expected a port ×1 "
            "(line 3)") in out
    code, out = invoke("ml", "train", "-i", f"binetflow:{flows_file}", "--no-register", "--strict")
    assert code == 2
    assert f"--strict: {flows_file}:3: column src_port: expected a port, got '0xzz'" in out
    assert "Traceback" not in out


def test_evaluate_skips_and_summarises(flows_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_evaluate(model: str, inputs: list[str], **kwargs: Any) -> dict[str, Any]:
        frame, _ = load_flows(inputs, None, skips=kwargs["skips"])
        per_class = {"malicious": {"precision": 1.0, "recall": 1.0}}
        return {"rows": frame.height, "positives": frame.height, "f1": 1.0, "mcc": 1.0, "per_class": per_class,
                "threshold": 0.5}

    monkeypatch.setattr(sys.modules["nwdaf.nf.mtlf.train.evaluate"], "evaluate", fake_evaluate)
    json_out = flows_file.parent / "e.json"
    code, out = invoke("ml", "evaluate", "--model", "m.skops", "-i", f"binetflow:{flows_file}", "--json",
                       str(json_out))
    assert code == 0, out
    assert "1 rows (1 malicious)" in out
    assert "skipped 2 of 3 rows" in out
    assert '"skipped": 2' in json_out.read_text()
    code, out = invoke("ml", "evaluate", "--model", "m.skops", "-i", f"binetflow:{flows_file}", "--strict")
    assert code == 2
    assert ":3: column src_port" in out
