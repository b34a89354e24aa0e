"""Data files loaded by ``data:`` sections and the helpers reading them."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.expr import compile_expr
from engine.runtime import Runtime, RuntimeOptions
from engine.spec import ContentError
from tests.support.shared import HUB as SHARED_HUB

HUB_DATA = SHARED_HUB / "data"
needs_hub = pytest.mark.skipif(not HUB_DATA.is_dir(), reason="shared hub data not available")


def ev(runtime: Runtime, source: str, **env: Any) -> Any:
    return compile_expr(source, functions=runtime.functions)(env)


def entry(dest: str, kind: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"source_url": f"https://hub-data.crowdsec.net/web/{dest}", "dest_file": dest}
    if kind is not None:
        out["type"] = kind
    return out


@pytest.fixture(scope="module")
def hub() -> Runtime:
    if not HUB_DATA.is_dir():
        pytest.skip("shared hub data not available")
    runtime = Runtime(RuntimeOptions(data_dir=HUB_DATA))
    runtime.load_data([entry("backdoors.txt", "string"),
                       entry("log4j2_cve_2021_44228.txt", "string"),
                       entry("bad_user_agents.regex.txt", "regexp"),
                       entry("rdns_seo_bots.regex", "regexp"),
                       entry("technology_probing.json", "map")], "scenarios/x.yaml")
    return runtime


@needs_hub
def test_string_file(hub: Runtime) -> None:
    lines = ev(hub, "File('backdoors.txt')")
    assert len(lines) == 209 and lines[:3] == ["1.php", "1337.php", "150.php"]
    assert ev(hub, "'1337.php' in File('backdoors.txt')") is True
    assert ev(hub, "'1337.PHP' in File('backdoors.txt')") is False
    assert ev(hub, "any(File('log4j2_cve_2021_44228.txt'), { Upper(s) contains Upper(#) })",
              s="GET /?x=${jndi:ldap://evil}") is True


@needs_hub
def test_regexp_file(hub: Runtime) -> None:
    assert ev(hub, "RegexpInFile('Mozilla/5.0 (compatible; 360Spider)', 'bad_user_agents.regex.txt')") is True
    assert ev(hub, "RegexpInFile('Mozilla/5.0 Firefox/120.0', 'bad_user_agents.regex.txt')") is False
    assert ev(hub, "RegexpInFile('crawl-66-249-66-1.googlebot.com.', 'rdns_seo_bots.regex')") is True
    assert ev(hub, "RegexpInFile('crawl-66-249-66-1.googlebot.com.evil', 'rdns_seo_bots.regex')") is False


@needs_hub
@pytest.mark.parametrize(("path", "tag"), [
    ("/ampps/index.php", "ampps-login-panel-probing"),  # equals before contains
    ("/x/ampps/y", "ampps-probing"),
    ("/x/libs/granite/ampps/", "adobe-experience-manager-login-panel-probing"),  # leftmost
    ("/goanywhere/x", "goanywhere-probing"),  # regex, last
    ("/index.html", ""),
])
def test_lookup_file(hub: Runtime, path: str, tag: str) -> None:
    assert ev(hub, "LookupFile(p, 'technology_probing.json')", p=path) == tag


@needs_hub
def test_file_map_rows(hub: Runtime) -> None:
    rows = ev(hub, "FileMap('technology_probing.json')")
    assert len(rows) == 396
    assert rows[0] == {"tag": "ampps-admin-login-panel-probing", "pattern": "/ampps-admin/index.php",
                       "type": "equals"}


def test_files_not_loaded_give_zero_values() -> None:
    runtime = Runtime()
    assert ev(runtime, "File('nope.txt')") == []
    assert ev(runtime, "RegexpInFile('x', 'nope.txt')") is False
    assert ev(runtime, "LookupFile('x', 'nope.json')") == ""
    assert ev(runtime, "FileMap('nope.json')") == []


def test_line_splitting_and_comments(tmp_path: Path) -> None:
    (tmp_path / "l.txt").write_bytes(b"# comment\na\r\n\n \n#x\nb\r\r\nlast")
    runtime = Runtime(RuntimeOptions(data_dir=tmp_path))
    runtime.load_data([entry("l.txt", "string")], "p.yaml")
    assert ev(runtime, "File('l.txt')") == ["a", " ", "b\r", "last"]


def test_same_file_as_two_types(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("^ab+c$\n")
    runtime = Runtime(RuntimeOptions(data_dir=tmp_path))
    runtime.load_data([entry("f.txt", "string"), entry("f.txt", "regex")], "p.yaml")
    assert ev(runtime, "File('f.txt')") == ["^ab+c$"]
    assert ev(runtime, "RegexpInFile('abbbc', 'f.txt')") is True
    assert ev(runtime, "RegexpInFile('xabbbc', 'f.txt')") is False


def test_loaded_once_per_name_and_type(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_text("one\n")
    runtime = Runtime(RuntimeOptions(data_dir=tmp_path))
    runtime.load_data([entry("f.txt", "string")], "a.yaml")
    path.write_text("two\n")
    runtime.load_data([entry("f.txt", "string")], "b.yaml")
    assert ev(runtime, "File('f.txt')") == ["one"]


def test_map_priorities(tmp_path: Path) -> None:
    (tmp_path / "m.json").write_text("\n".join([
        '{"tag": "c-long", "pattern": "/admin/x", "type": "contains"}',
        '{"tag": "c-short", "pattern": "/admin", "type": "contains"}',
        '{"tag": "c-late", "pattern": "min", "type": "contains"}',
        '{"tag": "re", "pattern": "^/z[0-9]+$", "type": "regex"}',
        '{"tag": "bad-re", "pattern": "(", "type": "regex"}',
        '{"tag": "eq1", "pattern": "/admin/x", "type": "equals"}',
        '{"tag": "eq2", "pattern": "/admin/x", "type": "equals"}',
    ]))
    runtime = Runtime(RuntimeOptions(data_dir=tmp_path))
    runtime.load_data([entry("m.json", "map")], "s.yaml")
    lookup = lambda s: ev(runtime, "LookupFile(s, 'm.json')", s=s)  # noqa: E731
    assert lookup("/admin/x") == "eq2"  # a later duplicate equals wins
    assert lookup("/admin/xy") == "c-long"  # same start: the first listed
    assert lookup("/admin/y") == "c-short"
    assert lookup("/q/min") == "c-late"
    assert lookup("/z12") == "re"
    assert lookup("/z12a") == ""


@pytest.mark.parametrize(("text", "message"), [
    ('{"tag": "t", "pattern": "p"}', "missing mandatory 'type'"),
    ('{"tag": "t", "type": "equals"}', "missing mandatory 'pattern'"),
    ('{"pattern": "p", "type": "equals"}', "missing mandatory 'tag'"),
    ('{"tag": "t", "pattern": "p", "type": "fuzzy"}', "unknown entry type 'fuzzy'"),
    ('{"tag": "t", "pattern": "p", "type": "equals", "n": 1}', "failed to parse JSON line"),
    ("not json", "failed to parse JSON line"),
])
def test_bad_map_files(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "m.json").write_text(text + "\n")
    runtime = Runtime(RuntimeOptions(data_dir=tmp_path))
    with pytest.raises(ContentError) as info:
        runtime.load_data([entry("m.json", "map")], "scenarios/s.yaml")
    assert str(info.value).startswith("scenarios/s.yaml: data: m.json: ")
    assert message in str(info.value)


def test_bad_regexp_file(tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_text("ok\n(?<=x)y\n")
    runtime = Runtime(RuntimeOptions(data_dir=tmp_path))
    with pytest.raises(ContentError, match=r"^p\.yaml: data: r\.txt: .*invalid regexp"):
        runtime.load_data([entry("r.txt", "regexp")], "p.yaml")


def test_missing_file_names_where_and_file(tmp_path: Path) -> None:
    runtime = Runtime(RuntimeOptions(data_dir=tmp_path))
    with pytest.raises(ContentError) as info:
        runtime.load_data([entry("nope.txt", "string")], "parsers/s02-enrich/x.yaml")
    assert str(info.value) == f"parsers/s02-enrich/x.yaml: data: nope.txt: file not found in {tmp_path}"


def test_no_data_dir() -> None:
    with pytest.raises(ContentError, match="x.yaml: data: a.txt: no data directory configured"):
        Runtime().load_data([entry("a.txt", "string")], "x.yaml")


def test_untyped_entries_are_skipped(tmp_path: Path) -> None:
    # geoip-enrich lists its mmdb files without a type: CrowdSec only downloads them
    runtime = Runtime(RuntimeOptions(data_dir=tmp_path))
    runtime.load_data([entry("GeoLite2-City.mmdb", None), entry("x.mmdb", "")], "geoip.yaml")


@pytest.mark.parametrize(("entries", "message"), [
    ([{"type": "string"}], "an entry has no dest_file"),
    (["a.txt"], "each entry must be a mapping"),
    ({"dest_file": "a"}, "must be a list"),
    ([entry("a.txt", "bots")], "'bots' .* not supported yet"),
    ([entry("a.txt", "csv")], "unknown data type 'csv'"),
])
def test_malformed_sections(tmp_path: Path, entries: Any, message: str) -> None:
    (tmp_path / "a.txt").write_text("x\n")
    runtime = Runtime(RuntimeOptions(data_dir=tmp_path))
    with pytest.raises(ContentError, match=message):
        runtime.load_data(entries, "x.yaml")


def test_dest_file_is_joined_like_go(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x\n")
    runtime = Runtime(RuntimeOptions(data_dir=tmp_path))
    runtime.load_data([entry("/a.txt", "string")], "x.yaml")  # filepath.Join drops the leading /
    assert ev(runtime, "File('/a.txt')") == ["x"]


@needs_hub
def test_every_hub_data_section_loads() -> None:
    import yaml

    hub = HUB_DATA.parent / "hub"
    runtime = Runtime(RuntimeOptions(data_dir=HUB_DATA))
    sections = 0
    for path in sorted(hub.rglob("*.y*ml")):
        if "appsec" in path.parts[-3]:
            continue
        text = path.read_text(encoding="utf-8")
        if "data:" not in text:
            continue
        for doc in yaml.safe_load_all(text):
            if isinstance(doc, dict) and doc.get("data"):
                runtime.load_data(doc["data"], str(path.relative_to(hub)))
                sections += 1
    assert sections >= 19
    assert ev(runtime, "'104.16.0.0/13' in File('cloudflare_ips.txt')") is True
    assert ev(runtime, "LookupFile('/x/crx/packmgr/index.jsp', 'technology_probing.json')") \
        == "adobe-aem-crx-package-manager-probing"
