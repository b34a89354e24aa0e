"""engine.hubtest.asserts: assert files, the basename shim, per-line evaluation (A.7)."""
from __future__ import annotations

from pathlib import Path

from engine.hubtest.asserts import (assert_functions, basename_shim, evaluate_assert_file,
                                    read_assert_lines)

FUNCS = assert_functions()


def test_basename_shim() -> None:
    line = 'results[0].Overflow.Alert.Events[0].GetMeta("datasource_path") == "x.log"'
    assert basename_shim(line) == ('basename(results[0].Overflow.Alert.Events[0].GetMeta'
                                   '("datasource_path")) == "x.log"')
    already = 'basename(results["a"]["b"][0].Evt.Meta["datasource_path"]) == "x.log"'
    assert basename_shim(already) == already
    assert basename_shim('results["a"] == "b"') == 'results["a"] == "b"'


def test_lines_strip_one_cr_and_skip_only_empty_lines(tmp_path: Path) -> None:
    path = tmp_path / "parser.assert"
    path.write_bytes(b"1 == 1\r\n\n  \nlen(results) == 0\r\r\n2 == 2")
    assert read_assert_lines(path) == [(1, "1 == 1"), (3, "  "), (4, "len(results) == 0\r"), (5, "2 == 2")]
    assert read_assert_lines(tmp_path / "missing") is None


def test_each_line_counts_and_errors_fail_without_stopping(tmp_path: Path) -> None:
    path = tmp_path / "parser.assert"
    path.write_text('len(results) == 2\nresults[5] == 1\n"x"\nresults[0] == "a"\nresults[1] == "c"\n'
                    "1 +\n")
    report = evaluate_assert_file(path, ["a", "b"], FUNCS)
    assert report.total == 6
    assert report.failed == 4
    assert [line.ok for line in report.lines] == [True, False, False, True, False, False]
    assert report.lines[1].error and "out of range" in report.lines[1].error
    assert report.lines[2].error and "not bool" in report.lines[2].error
    assert report.lines[4].error is None  # simply false
    assert report.lines[5].error and report.lines[5].error.startswith("compile error")
    assert report.error and "parser.assert:2" in report.error
    assert not report.success
    first = report.first_failure()
    assert first is not None and first.number == 2


def test_actual_value_of_the_left_side(tmp_path: Path) -> None:
    path = tmp_path / "scenario.assert"
    path.write_text('results[1] == "c"\n')
    report = evaluate_assert_file(path, ["a", "b"], FUNCS)
    line = report.first_failure()
    assert line is not None and line.actual({"results": ["a", "b"]}, FUNCS) == "'b'"


def test_basename_helper_is_available(tmp_path: Path) -> None:
    path = tmp_path / "parser.assert"
    path.write_text('basename("/a/b/c.log") == "c.log"\nbasename("") == "."\n'
                    'results.datasource_path == "x.log"\n')
    report = evaluate_assert_file(path, {"datasource_path": "/tmp/x.log"}, FUNCS)
    assert report.failed == 0 and report.total == 3


def test_missing_or_blank_evaluated_file_does_not_pass(tmp_path: Path) -> None:
    missing = evaluate_assert_file(tmp_path / "parser.assert", {}, FUNCS)
    assert missing.total == 0 and not missing.success and "missing" in (missing.error or "")
    blank = tmp_path / "scenario.assert"
    blank.write_text("\n\n")
    report = evaluate_assert_file(blank, [], FUNCS)
    assert report.total == 0 and not report.success and "empty" in (report.error or "")


def test_not_evaluated_file_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "parser.assert"
    path.write_text("this is not expr\n")
    report = evaluate_assert_file(path, {}, FUNCS, evaluated=False)
    assert report.total == 0 and report.failed == 0 and report.success and report.error is None
    assert evaluate_assert_file(tmp_path / "absent", {}, FUNCS, evaluated=False).success
