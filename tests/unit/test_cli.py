import re

import pytest
from typer.testing import CliRunner

from energy_lib.cli import app

runner = CliRunner()
COMMANDS = ["init", "ingest", "demo", "summary", "quarantine", "formats", "wards", "reconcile", "compute", "publish", "audit", "serve", "board",
            "household-index", "watch", "feed", "keys"]


def test_top_level_help_lists_every_command():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in COMMANDS:
        assert re.search(rf"\b{command}\b", result.output)


SUBCOMMANDS = ["board list", "board show", "board hide", "board restore", "board delete", "board reports", "board log",
               "keys create", "keys show", "keys rotate"]


@pytest.mark.parametrize("command", COMMANDS + SUBCOMMANDS)
def test_every_command_and_option_has_help(command):
    result = runner.invoke(app, [*command.split(), "--help"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines[2].strip() or lines[3].strip()) > 20  # the command's description
    options = [line for line in lines if line.strip().startswith("--")]
    for option in options:
        name = option.split()[0]
        assert len(option.strip()) > len(name) + 10 or "--help" in option, f"{command} {name} has no help"


def test_ingest_reports_rejections_and_exits_non_zero(tmp_path):
    bad = tmp_path / "empty.csv"
    bad.write_text("")
    result = runner.invoke(app, ["ingest", str(bad), "--store", str(tmp_path / "s")])
    assert result.exit_code == 1 and "REJECTED" in result.output and "empty" in result.output


def test_ingest_and_quarantine_listing(tmp_path):
    path = tmp_path / "b.csv"
    path.write_text("고객번호,행정동코드,청구년월,사용량,단위\n1,2911052500,202301,-3,kWh\n2,2911052500,202301,3,kWh\n", "utf-8")
    store = str(tmp_path / "s")
    result = runner.invoke(app, ["ingest", str(path), "--carrier", "electricity", "--store", store])
    assert result.exit_code == 0 and "1 stored, 1 quarantined" in result.output
    assert "row 2, column '사용량': negative_value" in result.output
    listing = runner.invoke(app, ["quarantine", "--store", store])
    assert "negative_value" in listing.output and "1 of 1" in listing.output
    summary = runner.invoke(app, ["summary", "--store", store])
    assert summary.exit_code == 0 and "readings" in summary.output


def test_wards_lookup_of_old_codes():
    result = runner.invoke(app, ["wards", "2917052000"])
    assert result.exit_code == 0 and "2917053500" in result.output and "중흥동" in result.output
    assert runner.invoke(app, ["wards", "2911099999"]).exit_code == 1


def test_formats_lists_fields_and_spellings():
    result = runner.invoke(app, ["formats", "bills"])
    assert result.exit_code == 0 and "고객번호" in result.output and "one of:" in result.output


def test_invalid_options_are_refused_before_anything_is_read(tmp_path):
    path = tmp_path / "b.csv"
    path.write_text("x\n1\n")
    result = runner.invoke(app, ["ingest", str(path), "--carrier", "elec", "--store", str(tmp_path / "s")])
    assert result.exit_code == 2 and "carrier must be one of" in result.output
    result = runner.invoke(app, ["ingest", str(path), "--timestamps", "middle", "--store", str(tmp_path / "s")])
    assert result.exit_code == 2


def test_demo_refuses_to_clear_a_directory_that_is_not_a_store(tmp_path):
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.tex").write_text("...")
    result = runner.invoke(app, ["demo", "--households", "50", "--out", str(tmp_path / "raw"), "--store", str(precious)])
    assert result.exit_code == 2 and "refusing" in result.output
    assert (precious / "chapter1.tex").exists()


def test_publish_says_what_to_run_first(tmp_path):
    empty = runner.invoke(app, ["publish", "--store", str(tmp_path / "store"), "--derived", str(tmp_path / "derived"),
                                "--site", str(tmp_path / "site")])
    assert empty.exit_code == 1 and "energy demo" in empty.output
