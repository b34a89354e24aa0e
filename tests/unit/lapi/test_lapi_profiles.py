"""profiles.yaml loading and evaluation with the engine's expr."""
from pathlib import Path

import pytest
from lapi_helpers import agent_alert

from engine.models import Alert
from lapi.errors import ProfileError
from lapi.profiles import load_profiles, parse_profiles

TWO_PROFILES = """\
name: captcha_for_http
filters:
  - Alert.GetScenario() contains "http"
  - Alert.Source.Cn == "FR"
decisions:
  - type: captcha
    duration: 1h
on_success: break
---
name: default_ip_remediation
filters:
  - Alert.Remediation == true && Alert.GetScope() == "Ip"
decisions:
  - type: ban
    duration: 4h
on_success: break
"""


def test_stock_profile(profiles_path: Path) -> None:
    profiles = load_profiles(profiles_path)
    assert profiles.decide(agent_alert()) == [{
        "type": "ban", "duration": "4h", "scope": "Ip", "value": "203.0.113.66",
        "origin": "crowdsec", "scenario": "crowdsecurity/ssh-bf", "simulated": False,
    }]
    assert profiles.decide(agent_alert(remediation=False)) == []
    a_range = {**agent_alert(), "source": {"scope": "Range", "value": "1.2.3.0/24"}}
    assert profiles.decide(a_range) == []


def test_first_matching_profile_wins_and_filters_are_ored() -> None:
    profiles = parse_profiles(TWO_PROFILES)
    assert [d["type"] for d in profiles.decide(agent_alert())] == ["ban"]
    http = agent_alert(scenario="crowdsecurity/http-probing")
    assert [(d["type"], d["duration"]) for d in profiles.decide(http)] == [("captcha", "1h")]
    french = {**agent_alert(), "source": {"scope": "Ip", "value": "1.2.3.4", "cn": "FR"}}
    assert [d["type"] for d in profiles.decide(french)] == ["captcha"]


def test_on_success_continue_keeps_the_first_decisions() -> None:
    profiles = parse_profiles(TWO_PROFILES.replace("on_success: break", "on_success: continue", 1))
    http = agent_alert(scenario="crowdsecurity/http-probing")
    assert [d["type"] for d in profiles.decide(http)] == ["captcha"]


def test_on_failure_break_stops_the_chain() -> None:
    text = TWO_PROFILES.replace("on_success: break\n---",
                                "on_success: break\non_failure: break\n---", 1)
    assert parse_profiles(text).decide(agent_alert()) == []


def test_filter_errors_follow_on_error() -> None:
    bad = "name: bad\nfilters:\n  - Alert.Nope == 1\ndecisions:\n  - type: ban\n"
    with pytest.raises(ProfileError, match=r"profile 'bad': filter 'Alert\.Nope == 1' failed"):
        parse_profiles(bad).decide(agent_alert())
    assert parse_profiles(bad + "on_error: apply\n").decide(agent_alert())[0]["duration"] == "4h"
    chained = bad + "on_error: continue\n---\n" + TWO_PROFILES.split("---\n")[1]
    assert [d["type"] for d in parse_profiles(chained).decide(agent_alert())] == ["ban"]
    chained = bad + "on_error: break\n---\n" + TWO_PROFILES.split("---\n")[1]
    assert parse_profiles(chained).decide(agent_alert()) == []


def test_duration_expr_scope_origin_and_simulated() -> None:
    text = """\
name: escalate
filters:
  - Alert.GetEventsCount() > 5
decisions:
  - type: ban
    scope: Range
    origin: profile
    simulated: true
duration_expr: Sprintf("%dh", Alert.GetEventsCount())
"""
    (decision,) = parse_profiles(text).decide(agent_alert())
    assert (decision["duration"], decision["scope"], decision["origin"], decision["simulated"]) == \
        ("6h", "Range", "crowdsec/profile", True)


def test_load_errors_have_a_reason(tmp_path) -> None:
    with pytest.raises(ProfileError, match="unknown key 'filter'"):
        parse_profiles("name: x\nfilter: []\n")
    with pytest.raises(ProfileError, match="cannot compile"):
        parse_profiles("name: x\nfilters:\n  - Alert.Remediation ==\n")
    with pytest.raises(ProfileError, match="unknown unit ' hours' in duration '4 hours'"):
        parse_profiles("name: x\ndecisions:\n  - type: ban\n    duration: 4 hours\n")
    with pytest.raises(ProfileError, match="invalid on_success 'stop'"):
        parse_profiles("name: x\non_success: stop\n")
    with pytest.raises(ProfileError, match="no profile defined"):
        parse_profiles("---\n")
    with pytest.raises(ProfileError, match="cannot read"):
        load_profiles(tmp_path / "missing.yaml")


def test_local_file_is_read_first(tmp_path) -> None:
    main = tmp_path / "profiles.yaml"
    main.write_text(TWO_PROFILES.split("---\n")[1])
    (tmp_path / "profiles.yaml.local").write_text(
        "name: local\nfilters:\n  - true\ndecisions:\n  - type: throttle\non_success: break\n")
    profiles = load_profiles(main)
    assert [p.name for p in profiles.profiles] == ["local", "default_ip_remediation"]
    assert profiles.decide(agent_alert())[0]["type"] == "throttle"


def test_alert_view_exposes_crowdsec_fields() -> None:
    view = Alert({**agent_alert(), "meta": [{"key": "k", "value": "v"}]})
    assert view.GetScope() == "Ip" and view.GetValue() == "203.0.113.66"
    assert view.GetScenario() == "crowdsecurity/ssh-bf" and view.GetEventsCount() == 6
    assert view.GetSources() == ["203.0.113.66"] and view.GetMeta("k") == "v"
    assert view.Events[0].GetMeta("log_type") == "ssh_failed-auth"
    assert view.Remediation is True and view.Source.IP == "203.0.113.66"
    assert view.Capacity == 5 and view.Leakspeed == "10s" and view.Labels == []
