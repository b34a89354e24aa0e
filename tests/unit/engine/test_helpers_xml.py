"""XMLGetNodeValue / XMLGetAttributeValue with etree's path subset."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.expr import compile_expr
from engine.helpers.xmlpath import XMLPath, XMLPathError, parse_document
from engine.runtime import Runtime
from tests.support.shared import HUB as SHARED_HUB

RUNTIME = Runtime()
HUB_TESTS = SHARED_HUB / "tests"


def ev(source: str, **env: Any) -> Any:
    return compile_expr(source, functions=RUNTIME.functions)(env)


SYSMON = (
    "- <Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>"
    "- <System><Provider Name='Microsoft-Windows-Sysmon' Guid='{5770385f}'/>"
    "<EventID>1</EventID><TimeCreated SystemTime='2023-03-14T10:00:00.123Z'/>"
    "<Security UserID='S-1-5-18'/><Channel>Microsoft-Windows-Sysmon/Operational</Channel></System>"
    "<EventData><Data Name='RuleName'>-</Data><Data Name='Image'>C:\\Windows\\cmd.exe</Data>"
    "<Data Name='CommandLine'>cmd.exe /c &quot;a &amp; b&quot;</Data><Data Name='Empty'/>"
    "<Data Name='Mixed'>head<!-- c -->tail<b>x</b>after</Data>"
    "<Data Name='Cdata'><![CDATA[<raw>]]></Data></EventData>"
    "<EventData><Data Name='Image'>second</Data></EventData></Event>"
)


@pytest.mark.parametrize(("path", "expected"), [
    ("/Event/System[1]/EventID", "1"),
    ("/Event/System[1]/Channel", "Microsoft-Windows-Sysmon/Operational"),
    ("/Event/EventData[1]/Data[@Name='Image']", "C:\\Windows\\cmd.exe"),
    ("/Event/EventData[2]/Data[@Name='Image']", "second"),
    ("/Event/EventData/Data[@Name='Image']", "C:\\Windows\\cmd.exe"),  # the first found
    ("/Event/EventData[1]/Data[@Name='CommandLine']", 'cmd.exe /c "a & b"'),
    ("/Event/EventData[1]/Data[2]", "C:\\Windows\\cmd.exe"),
    ("/Event/EventData[1]/Data[-1]", "<raw>"),
    ("/Event/EventData[1]/Data[@Name='Empty']", ""),
    ("/Event/EventData[1]/Data[@Name='Mixed']", "headtail"),  # text up to the first child
    ("/Event/EventData[1]/Data[@Name='Nope']", ""),
    ("//Data[@Name='RuleName']", "-"),
    ("//EventID", "1"),
    ("/Event/*[2]/Data[1]", "-"),
    ("/Event/System/EventID/..[Channel]/EventID", "1"),
    ("/Event/System[EventID='1']/Channel", "Microsoft-Windows-Sysmon/Operational"),
    ("/Event/System[EventID='2']/Channel", ""),
    ("/Event[local-name()='Event']/System/EventID", "1"),
    ("/Event/EventData[1]/Data[text()='-']", "-"),
    ("/System/EventID", ""),  # absolute: starts at the document
    ("/Event/System[1]/EventID[", ""),  # invalid path
    ("/Event/System[1]/EventID[foo()]", ""),
])
def test_node_value(path: str, expected: str) -> None:
    assert ev("XMLGetNodeValue(x, p)", x=SYSMON, p=path) == expected


@pytest.mark.parametrize(("path", "attr", "expected"), [
    ("/Event/System[1]/Provider", "Name", "Microsoft-Windows-Sysmon"),
    ("/Event/System[1]/TimeCreated", "SystemTime", "2023-03-14T10:00:00.123Z"),
    ("/Event/System[1]/Security", "UserID", "S-1-5-18"),
    ("/Event/System[1]/Security", "Nope", ""),
    ("/Event/System[1]/Nope", "Name", ""),
    ("/Event", "xmlns", "http://schemas.microsoft.com/win/2004/08/events/event"),
])
def test_attribute_value(path: str, attr: str, expected: str) -> None:
    assert ev("XMLGetAttributeValue(x, p, a)", x=SYSMON, p=path, a=attr) == expected


@pytest.mark.parametrize("bad", ["", "not xml", "<a><b></a>", "<a>&unknown;</a>",
                                 '<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>'])
def test_bad_xml_gives_empty(bad: str) -> None:
    assert ev("XMLGetNodeValue(x, '/a')", x=bad) == ""
    assert ev("XMLGetAttributeValue(x, '/a', 'b')", x=bad) == ""


def test_xml_declaration_and_prefixes() -> None:
    doc = "<?xml version='1.0' encoding='UTF-8'?><r xmlns:w='urn:w'><w:a k='1' w:k='2'>v</w:a></r>"
    assert ev("XMLGetNodeValue(x, '/r/a')", x=doc) == "v"  # no prefix in the path: any namespace
    assert ev("XMLGetNodeValue(x, '/r/w:a')", x=doc) == "v"
    assert ev("XMLGetNodeValue(x, '/r/z:a')", x=doc) == ""
    assert ev("XMLGetNodeValue(x, \"/r/a[namespace-uri()='urn:w']\")", x=doc) == "v"
    assert ev("XMLGetAttributeValue(x, '/r/a', 'w:k')", x=doc) == "2"
    assert ev("XMLGetAttributeValue(x, '/r/a', 'k')", x=doc) == "1"


def test_path_compile_errors() -> None:
    for bad in ("/a[", "/a[]", "/a[@b='c]", "/a[nope()]"):
        with pytest.raises(XMLPathError):
            XMLPath.compile(bad)


def test_descendants_are_breadth_first() -> None:
    doc = parse_document("<r><a><x>deep</x></a><x>shallow</x></r>")
    found = XMLPath.compile("//x").find_first(doc)
    assert found is not None and found.text() == "shallow"


@pytest.mark.skipif(not HUB_TESTS.is_dir(), reason="shared hub not available")
def test_hub_windows_event_lines() -> None:
    line = (HUB_TESTS / "windows-logs" / "windows-logs.log").read_text().split("\n")[0]
    assert line.startswith("- <Event")
    assert ev("XMLGetNodeValue(x, '/Event/System[1]/Channel')", x=line) == "Security"
    assert ev("XMLGetNodeValue(x, '/Event/System[1]/EventID')", x=line) == "4625"
    assert ev("XMLGetAttributeValue(x, '/Event/System[1]/Provider', 'Name')",
              x=line) == "Microsoft-Windows-Security-Auditing"
    assert ev("XMLGetNodeValue(x, \"/Event/EventData[1]/Data[@Name='TargetUserName']\")",
              x=line) == "testuser@mydomain.test"
