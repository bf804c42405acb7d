"""The command line: each command's output, exit code, and the files it writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ldntrial.cli.main import app
from ldntrial.data import load_bundle
from ldntrial.errors import BundleError
from ldntrial.protocol.loader import builtin_protocol_text

runner = CliRunner()


def test_protocol_list_shows_every_builtin() -> None:
    result = runner.invoke(app, ["protocol", "list"])
    assert result.exit_code == 0
    for protocol_id in ("pilot-2009", "crossover-2013", "cytokine-2017", "nof1"):
        assert protocol_id in result.stdout


def test_protocol_show_summarises_and_prints_the_file() -> None:
    result = runner.invoke(app, ["protocol", "show", "crossover-2013"])
    assert result.exit_code == 0
    assert "ldn-first: baseline > ldn > placebo > follow_up" in result.stdout
    assert "final 3 days" in result.stdout
    raw = runner.invoke(app, ["protocol", "show", "crossover-2013", "--toml"])
    assert raw.stdout == builtin_protocol_text("crossover-2013")


def test_validate_accepts_a_good_file_and_names_the_rule_a_bad_one_breaks(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text(builtin_protocol_text("pilot-2009"))
    result = runner.invoke(app, ["protocol", "validate", str(good)])
    assert result.exit_code == 0
    assert "valid protocol 'pilot-2009' (4 phases, 1 sequences)" in result.stdout

    bad = tmp_path / "bad.toml"
    bad.write_text(builtin_protocol_text("pilot-2009").replace("days = 56", "days = -14"))
    result = runner.invoke(app, ["protocol", "validate", str(bad)])
    assert result.exit_code == 2
    assert "phases[2].days: must be a positive whole number, got -14" in result.stderr
    assert "Traceback" not in result.stderr


def test_new_copies_a_builtin_under_a_new_id(tmp_path: Path) -> None:
    target = tmp_path / "my-nof1.toml"
    result = runner.invoke(app, ["protocol", "new", "--from", "nof1", str(target)])
    assert result.exit_code == 0
    text = target.read_text()
    assert 'id = "my-nof1"' in text and "# Started from the built-in protocol 'nof1'." in text
    again = runner.invoke(app, ["protocol", "new", "--from", "nof1", str(target)])
    assert again.exit_code == 2 and "already exists" in again.stderr
    unknown = runner.invoke(app, ["protocol", "new", "--from", "nof2", str(tmp_path / "x.toml")])
    assert unknown.exit_code == 2 and "no built-in protocol 'nof2'" in unknown.stderr


def test_simulate_writes_a_valid_bundle_and_a_hand_edit_is_caught(tmp_path: Path) -> None:
    out = tmp_path / "X"
    result = runner.invoke(
        app, ["simulate", "crossover-2013", "--n", "31", "--seed", "1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.stderr
    assert f"wrote {out}" in result.stdout
    trial = load_bundle(out)
    assert len(trial.participants) == 31
    assert trial.truth["seed"] == 1

    participants = out / "participants.parquet"
    participants.write_bytes(participants.read_bytes()[:-8] + b"tampered")
    with pytest.raises(BundleError, match=r"checksum does not match manifest.json"):
        load_bundle(out)


def test_simulate_takes_scenario_settings(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["simulate", "nof1", "--n", "2", "--seed", "3", "--out", str(tmp_path / "n"),
         "--scenario", "null", "--set", "missing_day_rate=0.3", "--format", "csv"],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    truth = load_bundle(tmp_path / "n").truth
    assert truth["scenario"] == "null" and truth["parameters"]["missing_day_rate"] == 0.3
    bad = runner.invoke(
        app,
        [
            "simulate",
            "nof1",
            "--n",
            "2",
            "--seed",
            "3",
            "--out",
            str(tmp_path / "m"),
            "--set",
            "nonsense",
        ],
    )
    assert bad.exit_code == 2 and "write it as name=value" in bad.stderr
    assert not (tmp_path / "m").exists()


def _ldntrial(
    *arguments: str, data_dir: Path, background: bool = False, **environ: str
) -> subprocess.Popen | subprocess.CompletedProcess:
    """ldntrial in a fresh process (the site's settings are read once per process)."""
    env = {**os.environ, "LDNTRIAL_DATA_DIR": str(data_dir), **environ}
    for inherited in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE"):
        env.pop(inherited, None)  # a fresh process configures itself
    command = [sys.executable, "-c", "from ldntrial.cli.main import run; run()", *arguments]
    if background:
        return subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    return subprocess.run(command, capture_output=True, text=True, env=env)


def test_demo_simulates_reports_and_builds_the_demo_study_once(tmp_path: Path) -> None:
    out, data = tmp_path / "out", tmp_path / "data"
    first = _ldntrial("demo", "--out", str(out), "--no-serve", data_dir=data)
    assert first.returncode == 0, first.stderr
    stdout = first.stdout.replace("\n", "")
    assert str((out / "crossover-2013").resolve()) in stdout
    assert load_bundle(out / "crossover-2013").protocol.id == "crossover-2013"
    assert "Participant flow" in (out / "report.html").read_text()
    assert "demo study 'demo' (built now)" in stdout and "ldntrial-demo-2026" in stdout
    for username in ("investigator", "coordinator", "pharmacist", "monitor", "admin"):
        assert username in stdout
    assert (data / "ldntrial.sqlite3").is_file()
    again = _ldntrial("demo", "--out", str(out), "--no-serve", data_dir=data)
    assert "demo study 'demo' (already there)" in again.stdout.replace("\n", "")


def test_serve_answers_real_http_on_the_port_it_was_given(tmp_path: Path) -> None:
    port = _free_port()
    server = _ldntrial("serve", "--port", str(port), data_dir=tmp_path, background=True)
    try:
        # Migrations and two workers first: on a loaded 2-core machine that took over 30 s.
        body = _get_when_up(f"http://127.0.0.1:{port}/accounts/login/", seconds=120)
        assert "Sign in" in body and "csrfmiddlewaretoken" in body
    finally:
        server.terminate()
        server.wait(timeout=20)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get_when_up(url: str, seconds: float = 30) -> str:
    import time
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            # TimeoutError: a worker still starting on a loaded machine; ask again.
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_analyze_prints_results_and_strict_json(tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    assert (
        runner.invoke(
            app, ["simulate", "crossover-2013", "--n", "16", "--seed", "4", "--out", str(out)]
        ).exit_code
        == 0
    )
    text = runner.invoke(app, ["analyze", str(out)])
    assert text.exit_code == 0
    assert "crossover-2013 (crossover): 16 randomised" in text.stdout
    assert "Daily pain: mixed model on each condition's final 14 days" in text.stdout
    assert "not run: cytokines (no scheduled lab panel)" in text.stdout
    as_json = runner.invoke(app, ["analyze", str(out), "--json"])
    document = json.loads(as_json.stdout)
    assert document["protocol"] == "crossover-2013"
    assert document["mixed_model"]["terms"][1]["term"] == "condition[ldn]"


def test_analyze_of_a_missing_bundle_is_one_message(tmp_path: Path) -> None:
    result = runner.invoke(app, ["analyze", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "error:" in result.stderr and "Traceback" not in result.stderr


def test_power_prints_a_table_and_curve_and_strict_json(tmp_path: Path) -> None:
    plot = tmp_path / "power.png"
    arguments = ["power", "crossover-2013", "--n", "6,30", "--sims", "25", "--workers", "1"]
    text = runner.invoke(app, [*arguments, "--plot", str(plot)])
    assert text.exit_code == 0, text.stderr
    assert "crossover-2013 (crossover), scenario stanford, 25 simulated trials" in text.stdout
    assert "paired t-test of % improvement in pain" in text.stdout
    assert "█" in text.stdout
    assert plot.read_bytes().startswith(b"\x89PNG")
    document = json.loads(runner.invoke(app, [*arguments, "--json"]).stdout)
    assert [row["n"] for row in document["rows"]] == [6, 30]
    assert all(row["trials"] == 25 for row in document["rows"])
    assert document["rows"][0]["power"] < document["rows"][1]["power"]


def test_power_of_an_nof1_protocol_is_by_block_pairs() -> None:
    result = runner.invoke(
        app, ["power", "nof1", "--pairs", "1,2", "--sims", "25", "--workers", "1", "--json"]
    )
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["size"] == "pairs"
    assert [row["pairs"] for row in document["rows"]] == [1, 2]
    wrong_option = runner.invoke(app, ["power", "nof1", "--n", "10"])
    assert wrong_option.exit_code == 2
    assert "--n: an N-of-1 protocol has one patient per trial" in wrong_option.stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["crossover-2013"], "--n: give the sample sizes to simulate"),
        (["crossover-2013", "--n", "10,x"], "--n: 'x' is not a whole number"),
        (["crossover-2013", "--pairs", "2"], "--pairs: only an N-of-1 protocol has block pairs"),
        (["crossover-2013", "--n", "1"], "sizes: 1 participants is too few"),
    ],
)
def test_power_names_the_bad_option(arguments: list[str], message: str) -> None:
    result = runner.invoke(app, ["power", *arguments])
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_report_writes_html_pdf_and_a_participant_page(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    simulated = runner.invoke(
        app, ["simulate", "nof1", "--n", "3", "--seed", "2", "--out", str(bundle)]
    )
    assert simulated.exit_code == 0
    html, pdf = tmp_path / "report.html", tmp_path / "report.pdf"
    result = runner.invoke(app, ["report", str(bundle), "--out", str(html), "--pdf", str(pdf)])
    assert result.exit_code == 0, result.stderr
    assert f"wrote {html}, {pdf}" in result.stdout
    assert "N-of-1 series" in html.read_text() and pdf.read_bytes().startswith(b"%PDF")
    page = tmp_path / "p.html"
    mine = runner.invoke(
        app, ["report", str(bundle), "--participant", "P00002", "--out", str(page)]
    )
    assert mine.exit_code == 0
    assert "what your diary shows" in page.read_text()
    nobody = runner.invoke(app, ["report", str(bundle), "--participant", "P9", "--out", str(page)])
    assert nobody.exit_code == 2
    assert "--participant: no participant 'P9' in this trial" in nobody.stderr


def test_manage_runs_django_commands_and_names_a_bad_setting(tmp_path: Path) -> None:
    good = _ldntrial("manage", "check", data_dir=tmp_path)
    assert good.returncode == 0, good.stderr
    assert "System check identified no issues" in good.stdout
    bad = _ldntrial("manage", "check", data_dir=tmp_path, LDNTRIAL_DEBUG="ture")
    assert bad.returncode == 2
    assert "LDNTRIAL_DEBUG: 'ture' is not true or false" in bad.stderr
    assert "Traceback" not in bad.stderr


# A production configuration with keys long enough and nothing real in them.
PRODUCTION = {
    "LDNTRIAL_PRODUCTION": "true",
    "LDNTRIAL_SECRET_KEY": "s" * 20 + "-not-a-real-secret-but-long-enough-" + "k" * 20,
    "LDNTRIAL_EXPORT_KEY": "e" * 12 + "-not-a-real-export-key-" + "y" * 12,
    "LDNTRIAL_AUDIT_KEY": "a" * 12 + "-not-a-real-audit-key-" + "z" * 12,
    "LDNTRIAL_ALLOWED_HOSTS": "trial.example.org",
}


def test_production_settings_pass_check_deploy_with_no_warning(tmp_path: Path) -> None:
    result = _ldntrial(
        "manage",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        data_dir=tmp_path,
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_serve_in_production_before_collectstatic_says_what_to_run(tmp_path: Path) -> None:
    """It used to start, and every page answered 500 for want of the static manifest."""
    result = _ldntrial(
        "serve",
        "--port",
        str(_free_port()),
        data_dir=tmp_path,
        **PRODUCTION,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "run `ldntrial manage collectstatic --noinput` once" in result.stderr
    assert "Traceback" not in result.stderr


def test_export_is_deidentified_by_default_and_needs_the_key(tmp_path: Path, monkeypatch) -> None:
    bundle = tmp_path / "bundle"
    simulated = ["simulate", "crossover-2013", "--n", "6", "--seed", "2", "--out", str(bundle)]
    assert runner.invoke(app, simulated).exit_code == 0
    monkeypatch.delenv("LDNTRIAL_EXPORT_KEY", raising=False)
    arguments = ["export", str(bundle), "--format", "csv", "--out", str(tmp_path / "csv")]
    refused = runner.invoke(app, arguments)
    assert refused.exit_code == 2 and "LDNTRIAL_EXPORT_KEY" in refused.stderr
    assert not (tmp_path / "csv").exists()
    monkeypatch.setenv("LDNTRIAL_EXPORT_KEY", "a site secret of thirty-two chars")
    done = runner.invoke(app, arguments)
    assert done.exit_code == 0, done.stderr
    assert "de-identified csv export of 6 participants" in done.stdout
    shown = load_bundle(tmp_path / "csv")
    assert not set(shown.participants["participant_id"]) & set(
        load_bundle(bundle).participants["participant_id"]
    )
    identified = ["export", str(bundle), "--format", "parquet", "--identified"]
    kept = runner.invoke(app, [*identified, "--out", str(tmp_path / "pq")])
    assert kept.exit_code == 0 and load_bundle(tmp_path / "pq").equals(load_bundle(bundle))


def test_a_redcap_export_imports_back_as_the_same_bundle(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    simulated = ["simulate", "pilot-2009", "--n", "5", "--seed", "3", "--out", str(bundle)]
    assert runner.invoke(app, simulated).exit_code == 0
    exported = ["export", str(bundle), "--format", "redcap", "--identified", "--out"]
    assert runner.invoke(app, [*exported, str(tmp_path / "rc")]).exit_code == 0
    done = runner.invoke(
        app,
        ["import-redcap", str(tmp_path / "rc"), "--protocol", "pilot-2009", "--out",
         str(tmp_path / "back")],
    )  # fmt: skip
    assert done.exit_code == 0, done.stderr
    assert "wrote" in done.stdout and "5 participants" in done.stdout
    back, original = load_bundle(tmp_path / "back"), load_bundle(bundle)
    assert back.participants.equals(original.participants)
    assert len(back.diary) == len(original.diary)
    missing = runner.invoke(
        app,
        ["import-redcap", str(tmp_path), "--protocol", "pilot-2009", "--out", str(tmp_path / "x")],
    )
    assert missing.exit_code == 2 and "Traceback" not in missing.stderr


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"a = " + b"[" * 3000 + b"]" * 3000, "nested too deeply"),
        ("title = 'caf\u00e9'".encode("latin-1"), "not UTF-8 text (byte 12)"),
        (bytes(range(256)), "not UTF-8 text"),
    ],
    ids=["nested", "latin-1", "binary"],
)
def test_a_file_that_is_no_protocol_is_one_line_not_a_traceback(tmp_path, content, said) -> None:
    path = tmp_path / "study.toml"
    path.write_bytes(content)
    for command in (["protocol", "validate", str(path)], ["protocol", "show", str(path)]):
        result = runner.invoke(app, command)
        assert result.exit_code == 2, result.exception
        assert said in result.output and "Traceback" not in result.output


def test_square_brackets_are_printed_as_written(tmp_path: Path) -> None:
    """rich markup once ate '[not done]' out of messages and titles."""
    from ldntrial.protocol.loader import builtin_protocol_text

    text = builtin_protocol_text("pilot-2009")
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('phases = ["baseline"', 'phases = ["[not done]"', 1))
    result = runner.invoke(app, ["protocol", "validate", str(bad)])
    assert result.exit_code == 2 and "got '[not done]'" in result.output
    titled = tmp_path / "titled.toml"
    titled.write_text(text.replace('title = "', 'title = "[not done] ', 1))
    assert "[not done] " in runner.invoke(app, ["protocol", "show", str(titled)]).output
