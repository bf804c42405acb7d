"""`ldntrial evidence`: the shipped synthesis, a trial of one's own added, the figure."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

import ldntrial
from ldntrial.cli.main import app
from ldntrial.stats.evidence import synthesise

runner = CliRunner()


def test_it_prints_the_trials_the_synthesis_and_what_it_says() -> None:
    result = runner.invoke(app, ["evidence"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for label in ("Younger 2013", "Bested 2023", "Bruun 2024 (FINAL)", "INNOVA 2025"):
        assert label in result.stdout
    assert "cannot tell LDN from placebo on pain" in result.stdout
    assert "Younger 2009 (pilot) is not pooled" in result.stdout
    assert "With each trial left out in turn" in result.stdout


def test_json_carries_the_numbers_and_a_trial_of_ones_own_joins(tmp_path: Path) -> None:
    analysis = ldntrial.analyze(ldntrial.simulate_trial("crossover-2013", n=31, seed=4))
    mine = tmp_path / "clinic-2026.json"
    mine.write_text(json.dumps(analysis.to_dict()), encoding="utf-8")
    figure = tmp_path / "forest.png"
    result = runner.invoke(
        app, ["evidence", "--add", str(mine), "--figure", str(figure), "--json"]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["pooled"]["k"] == 5
    assert document["trials"][-1]["id"] == "own:clinic-2026"
    shipped = json.loads(runner.invoke(app, ["evidence", "--json"]).stdout)
    assert shipped["pooled"]["estimate"] == synthesise().pooled.estimate
    assert [row["left_out"] for row in shipped["leave_one_out"]] == shipped["pooled"]["trials"]
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_file_that_is_not_an_analysis_is_named(tmp_path: Path) -> None:
    stray = tmp_path / "notes.json"
    stray.write_text("[1, 2]", encoding="utf-8")
    result = runner.invoke(app, ["evidence", "--add", str(stray)])
    assert result.exit_code == 2
    assert "notes.json is not the JSON of `ldntrial analyze --json`" in result.output
