"""Ordinary mistakes give one clear Chinese + English line and exit code 2, never a traceback,
and never leave a file behind (a mistyped ``--db`` must not create an empty store)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from huiyan.cli.errors import EXIT_USER, describe
from huiyan.cli.main import app
from huiyan.engine import Store
from huiyan.errors import InputError

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A store holding one settlement (enough for the commands to get past their checks)."""
    path = tmp_path / "region.duckdb"
    with Store(path) as store:
        store.ensure("setl_list")
        store.con.execute("insert into setl_list (setl_id, medins_code) values ('S1', 'H1')")
    return path


def _fails(args: list[str], *needles: str) -> str:
    result = runner.invoke(app, args)
    text = result.output
    assert result.exit_code == EXIT_USER, text
    assert "错误 error" in text and "Traceback" not in text
    for needle in needles:
        assert needle in text, text
    return text


MISSING_DB_COMMANDS = [
    ["qc"],
    ["qc", "--explain", "S1"],
    ["price"],
    ["settle", "--period", "2025-12"],
    ["audit"],
    ["evaluate", "--labels", "LABELS"],
    ["export", "setl_list", "--out", "OUT/x.csv"],
    ["group", "diff", "--from", "chs-drg-1.1", "--to", "chs-drg-1.0"],
]


@pytest.mark.parametrize("args", MISSING_DB_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_a_mistyped_db_is_an_error_and_creates_nothing(tmp_path: Path, args: list[str]) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("setl_id,vola_bhvr_type\n", encoding="utf-8")
    args = [a.replace("LABELS", str(labels)).replace("OUT", str(tmp_path)) for a in args]
    typo = tmp_path / "regoin.duckdb"
    _fails([*args, "--db", str(typo)], str(typo), "数据库文件不存在", "not found")
    assert not typo.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.csv"]


@pytest.mark.parametrize("command", [["qc"], ["price"], ["audit"]])
def test_an_empty_store_is_an_error(tmp_path: Path, command: list[str]) -> None:
    empty = tmp_path / "empty.duckdb"
    Store(empty).close()
    _fails([*command, "--db", str(empty)], str(empty), "没有数据表")


def test_a_directory_as_db_is_an_error(tmp_path: Path) -> None:
    _fails(["qc", "--db", str(tmp_path)], "目录")


def test_qc_explain_of_an_unknown_settlement(db: Path) -> None:
    _fails(["qc", "--db", str(db), "--explain", "NOPE"], "'NOPE'", "setl_id not found")


def test_settle_with_a_malformed_period(db: Path) -> None:
    _fails(["settle", "--db", str(db), "--period", "2025-13"], "YYYY-MM", "2025-13")


def test_settle_without_payments_names_the_missing_table(db: Path) -> None:
    _fails(["settle", "--db", str(db), "--period", "2025-12"], "payment", "huiyan run")


def test_settle_with_a_missing_input_file(db: Path, tmp_path: Path) -> None:
    missing = tmp_path / "deductions.csv"
    _fails(
        ["settle", "--db", str(db), "--period", "2025-12", "--deductions", str(missing)],
        str(missing),
        "已确认扣减文件不存在",
    )


def test_audit_with_an_unknown_stage(db: Path) -> None:
    _fails(["audit", "--db", str(db), "--stage", "later"], "'later'")


def test_evaluate_with_missing_labels(db: Path, tmp_path: Path) -> None:
    missing = tmp_path / "labels.csv"
    _fails(["evaluate", "--db", str(db), "--labels", str(missing)], str(missing), "标签文件不存在")


def test_export_into_a_missing_folder_creates_nothing(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "missing" / "x.csv"
    _fails(["export", "setl_list", "--db", str(db), "--out", str(out)], "输出目录不存在")
    assert not out.parent.exists()


def test_export_of_an_unknown_table(db: Path, tmp_path: Path) -> None:
    _fails(["export", "nope", "--db", str(db), "--out", str(tmp_path / "x.csv")], "'nope'")


def test_run_of_a_missing_folder_leaves_no_store(tmp_path: Path) -> None:
    store = tmp_path / "x.duckdb"
    _fails(["run", str(tmp_path / "nodir"), "--db", str(store)], "nodir", "数据集目录不存在")
    assert not store.exists()


def test_run_with_an_unknown_step(tmp_path: Path) -> None:
    store = tmp_path / "x.duckdb"
    text = _fails(
        ["run", str(tmp_path), "--steps", "ingest,grp", "--db", str(store)], "grp", "ingest, group"
    )
    assert "未知步骤" in text
    assert not store.exists()


def test_ingest_of_a_file_instead_of_a_folder(db: Path, tmp_path: Path) -> None:
    _fails(["ingest", str(db), "--db", str(tmp_path / "new.duckdb")], str(db), "应为目录")
    assert not (tmp_path / "new.duckdb").exists()


def test_group_with_missing_cases_and_missing_output_folder(tmp_path: Path) -> None:
    cases = tmp_path / "cases.csv"
    _fails(["group", "--cases", str(cases), "--out", str(tmp_path / "o.csv")], str(cases))
    cases.write_text("case_id\n1\n", encoding="utf-8")
    out = tmp_path / "missing" / "o.csv"
    _fails(["group", "--cases", str(cases), "--out", str(out)], "输出目录不存在")
    assert not out.parent.exists()


def test_rules_list_into_a_missing_folder(tmp_path: Path) -> None:
    out = tmp_path / "missing" / "rules.xlsx"
    _fails(["rules", "list", "--format", "xlsx", "--out", str(out)], "输出目录不存在")
    assert not out.parent.exists()


def test_kb_lookup_of_an_unknown_code() -> None:
    _fails(["kb", "lookup", "NOPE123"], "'NOPE123'", "unknown code")


def test_kb_export_into_a_missing_folder(tmp_path: Path) -> None:
    out = tmp_path / "missing" / "hilist.csv"
    _fails(["kb", "export", "hilist", "--out", str(out)], "输出目录不存在")
    assert not out.parent.exists()


def test_synth_with_a_bad_format(tmp_path: Path) -> None:
    _fails(["synth", str(tmp_path / "r"), "--cases", "10", "--format", "xml"], "'xml'")


def test_demo_with_no_cases(tmp_path: Path) -> None:
    _fails(["demo", "--cases", "0", "--out", str(tmp_path / "d")], "--cases")
    assert not (tmp_path / "d").exists()


def test_a_store_in_use_names_the_process(tmp_path: Path) -> None:
    path = tmp_path / "busy.duckdb"
    Store(path).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ok', flush=True); "
            "time.sleep(60)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        _fails(["qc", "--db", str(path)], "数据库正被另一进程使用", f"PID {holder.pid}")
    finally:
        holder.kill()
        holder.wait()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("huiyan ") and result.output.strip() != "huiyan"


@pytest.mark.parametrize(
    ("exc", "needle"),
    [
        (InputError("x.csv: 第 3 行"), "x.csv: 第 3 行"),
        (FileNotFoundError(2, "No such file", "a/b.csv"), "a/b.csv: 文件或目录不存在"),
        (PermissionError(13, "Permission denied", "/etc/x"), "/etc/x: 没有读写权限"),
        (OSError(28, "No space left on device", "out.xlsx"), "out.xlsx: 磁盘空间不足"),
        (ModuleNotFoundError("No module named 'sqlalchemy'", name="sqlalchemy"), "huiyan[service]"),
    ],
)
def test_ordinary_errors_are_described(exc: BaseException, needle: str) -> None:
    described = describe(exc)
    assert described is not None and described[1] == EXIT_USER
    assert needle in described[0]


def test_a_bug_is_not_passed_off_as_a_user_mistake() -> None:
    assert describe(ZeroDivisionError("division by zero")) is None


def test_a_bug_prints_one_line_and_exit_code_1(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(code: str) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("huiyan.kb.lookup.lookup", broken)
    monkeypatch.delenv("HUIYAN_DEBUG", raising=False)
    result = runner.invoke(app, ["kb", "lookup", "E11.900"])
    assert result.exit_code == 1
    assert "内部错误 internal error: ZeroDivisionError" in result.output
    assert "Traceback" not in result.output


def test_wait_waits_for_the_store_to_be_free(tmp_path: Path) -> None:
    path = tmp_path / "busy.duckdb"
    Store(path).close()
    data = tmp_path / "empty"
    data.mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ok', flush=True); "
            "time.sleep(2); c.close()",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        result = runner.invoke(app, ["ingest", str(data), "--db", str(path), "--wait", "30"])
        # it got the store (no "in use" error) and then found the folder empty
        assert result.exit_code == 2 and "没有可识别的数据表文件" in result.output, result.output
    finally:
        holder.wait()
