"""A tiny self-contained hub (index, patterns, parsers, a scenario) and hub tests over it."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

PATTERNS = """\
WORD \\b\\w+\\b
NOTSPACE \\S+
GREEDYDATA .*
IP (?:[0-9]{1,3}\\.){3}[0-9]{1,3}
"""

RAW = """\
name: test/raw
description: split the line
filter: "evt.Line.Labels.type == 'app'"
onsuccess: next_stage
grok:
  pattern: '^%{NOTSPACE:timestamp} %{WORD:program}: %{GREEDYDATA:message}$'
  apply_on: Line.Raw
statics:
  - meta: datasource_path
    expression: evt.Line.Src
  - meta: label_env
    expression: evt.Line.Labels.env
---
name: test/never
description: second document of the same file
filter: "1 == 2"
statics:
  - meta: never
    value: "yes"
"""

APP = """\
name: test/app-logs
description: failed logins
filter: "evt.Parsed.program == 'app'"
onsuccess: next_stage
grok:
  pattern: 'login failed user=%{WORD:user} ip=%{IP:source_ip}'
  apply_on: message
statics:
  - meta: log_type
    value: app_failed-auth
  - meta: source_ip
    expression: evt.Parsed.source_ip
  - meta: user
    expression: evt.Parsed.user
  - target: evt.StrTime
    expression: evt.Parsed.timestamp
"""

DATES = """\
name: test/dates
description: dates
filter: "evt.StrTime != ''"
statics:
  - method: ParseDate
    expression: evt.StrTime
  - target: MarshaledTime
    expression: evt.Enriched.MarshaledTime
  - meta: timestamp
    expression: evt.Enriched.MarshaledTime
"""

SCENARIO = """\
type: leaky
name: test/app-bf
description: two failed logins
filter: "evt.Meta.log_type == 'app_failed-auth'"
groupby: evt.Meta.source_ip
capacity: 1
leakspeed: 10s
labels:
  remediation: true
"""

LOG = ("2026-01-02T03:04:05Z app: login failed user=bob ip=1.2.3.4\n"
       "\n"
       "2026-01-02T03:04:06Z app: login failed user=alice ip=1.2.3.4\r\n"
       "garbage line\n")

PARSER_ASSERT = """\
len(results) == 4
len(results["success"][""]) == 0
len(results["s00-raw"]["test/raw"]) == 3
results["s00-raw"]["test/raw"][0].Success == true
results["s00-raw"]["test/raw"][2].Success == false
len(results["s00-raw"]["test/never"]) == 1
results["s00-raw"]["test/never"][0].Success == false
results["s01-parse"]["test/app-logs"][0].Evt.Parsed["user"] == "bob"
results["s01-parse"]["test/app-logs"][1].Evt.Parsed["user"] == "alice"
results["s01-parse"]["test/app-logs"][1].Evt.Parsed["nope"] == ""
results["s01-parse"]["test/app-logs"][0].Evt.Meta["datasource_path"] == "app.log"
results["s02-enrich"]["test/dates"][0].Evt.MarshaledTime == "2026-01-02T03:04:05Z"
len(results["s02-enrich"]["missing"]) == 0
"""

SCENARIO_ASSERT = """\
len(results) == 1
"1.2.3.4" in results[0].Overflow.GetSources()
results[0].Overflow.Sources["1.2.3.4"].IP == "1.2.3.4"
results[0].Overflow.Sources["1.2.3.4"].GetScope() == "Ip"
results[0].Overflow.Sources["1.2.3.4"].GetValue() == "1.2.3.4"
results[0].Overflow.Alert.GetScenario() == "test/app-bf"
results[0].Overflow.Alert.GetEventsCount() == 2
results[0].Overflow.Alert.Remediation == true
results[0].Overflow.Alert.Events[0].GetMeta("datasource_path") == "app.log"
results[0].Overflow.Alert.Events[1].GetMeta("user") == "alice"
results[0].Overflow.Whitelisted == false
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def make_hub(root: Path) -> Path:
    """HUB with hub/ (index + content), patterns/ and data/; returns HUB."""
    hub = root / "hub"
    write(hub / "patterns" / "base", PATTERNS)
    (hub / "data").mkdir(parents=True, exist_ok=True)
    write(hub / "hub" / "parsers" / "s00-raw" / "test" / "raw.yaml", RAW)
    write(hub / "hub" / "parsers" / "s01-parse" / "test" / "app-logs.yaml", APP)
    write(hub / "hub" / "parsers" / "s02-enrich" / "test" / "dates.yaml", DATES)
    write(hub / "hub" / "scenarios" / "test" / "app-bf.yaml", SCENARIO)
    index = {
        "parsers": {
            "test/raw": {"path": "parsers/s00-raw/test/raw.yaml", "stage": "s00-raw", "version": "0.1"},
            "test/app-logs": {"path": "parsers/s01-parse/test/app-logs.yaml", "stage": "s01-parse",
                              "version": "0.2"},
            "test/dates": {"path": "parsers/s02-enrich/test/dates.yaml", "stage": "s02-enrich",
                           "version": "0.3"},
            "test/absent": {"path": "parsers/s01-parse/test/absent.yaml", "stage": "s01-parse",
                            "version": "1.0"},
        },
        "scenarios": {"test/app-bf": {"path": "scenarios/test/app-bf.yaml", "version": "0.1"}},
        "collections": {},
    }
    write(hub / "hub" / ".index.json", json.dumps(index))
    return hub


def make_test(tests: Path, name: str, *, config: str | None = None, log: str | None = LOG,
              parser_assert: str | None = PARSER_ASSERT,
              scenario_assert: str | None = SCENARIO_ASSERT) -> Path:
    """TESTS/<name>/ with config.yaml, app.log and the assert files (None: left out)."""
    folder = tests / name
    folder.mkdir(parents=True, exist_ok=True)
    if config is None:
        config = """\
        parsers:
        - test/raw
        - /parsers/s01-parse/test/app-logs.yaml
        - ./parsers/s02-enrich/test/dates.yaml
        scenarios:
        - test/app-bf
        postoverflows:
        - ""
        log_file: app.log
        log_type: app
        labels: {env: prod}
        ignore_parsers: false
        """
    write(folder / "config.yaml", textwrap.dedent(config))
    if log is not None:
        write(folder / "app.log", log)
    if parser_assert is not None:
        write(folder / "parser.assert", parser_assert)
    if scenario_assert is not None:
        write(folder / "scenario.assert", scenario_assert)
    return folder
