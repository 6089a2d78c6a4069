"""`flask transactions import FILE`: what it prints and the exit status it ends with."""
from __future__ import annotations

from domain.letters.importing import HEADER

HEADER_LINE = ",".join(HEADER)
GOOD = [
    "1234,2024-03-05,to_federal,تمويل رواتب,وزارة المالية والاقتصاد في إقليم كوردستان,"
    "وزارة المالية الاتحادية,وزارة المالية الاتحادية,received,2024-03-06,07501234567",
    "5678,2024-04-01,to_region,,وزارة المالية الاتحادية,وزارة المالية والاقتصاد في إقليم كوردستان,"
    "وزارة المالية الاتحادية,forwarded,2024-04-02,",
]
BAD = "99,2024-02-30,to_federal,,وزارة المالية الاتحادية,وزارة التخطيط,وزارة التخطيط,received,2024-03-01,"


def write(tmp_path, *lines: str, name: str = "letters.csv"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def run_import(runner, path: str):
    return runner.invoke(args=["transactions", "import", path])


def test_a_good_file_prints_the_counts_and_exits_0(runner, tmp_path):
    result = run_import(runner, write(tmp_path, HEADER_LINE, *GOOD))

    assert result.exit_code == 0, result.output
    assert "added 2, updated 0, unchanged 0, rejected 0" in result.stdout


def test_loading_it_again_reports_it_unchanged(runner, tmp_path):
    path = write(tmp_path, HEADER_LINE, *GOOD)
    run_import(runner, path)

    result = run_import(runner, path)

    assert result.exit_code == 0
    assert "added 0, updated 0, unchanged 2, rejected 0" in result.stdout


def test_rejected_rows_are_listed_by_line_and_the_exit_status_is_1(runner, tmp_path):
    result = run_import(runner, write(tmp_path, HEADER_LINE, GOOD[0], BAD, GOOD[1]))

    assert result.exit_code == 1
    assert "added 2, updated 0, unchanged 0, rejected 1" in result.stdout
    assert "line 3: date '2024-02-30' is not a real calendar date" in result.stdout


def test_a_wrong_header_exits_1_and_says_what_is_wrong(runner, tmp_path):
    result = run_import(runner, write(tmp_path, HEADER_LINE.replace("holder", "owner"), *GOOD))

    assert result.exit_code == 1
    assert "wrong header (missing holder; unexpected 'owner')" in result.output


def test_an_empty_file_exits_1(runner, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")

    result = run_import(runner, str(path))

    assert result.exit_code == 1
    assert "the file is empty" in result.output


def test_a_missing_file_exits_1(runner, tmp_path):
    result = run_import(runner, str(tmp_path / "nowhere.csv"))

    assert result.exit_code == 1
    assert "cannot read" in result.output
