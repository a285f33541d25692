"""Output injection: control characters, Markdown links, mentions and code spans."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from bastion._internal.report.common import (
    json_printable,
    markdown_code,
    markdown_text,
    printable,
)
from bastion._internal.report.github import escape_data
from tests.conftest import OLD_DATA_OK, run_cli

# An OSC 8 hyperlink, a screen clear, a bell, a carriage return and a right-to-left override.
OSC8 = "\x1b]8;;http://evil.test/\x07click\x1b]8;;\x07"
HOSTILE = f"evil{OSC8}\x1b[2J\r\u202e"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e\ud800-\udfff]")


def hostile_project(root: Path) -> Path:
    """A Pipfile.lock (JSON escapes) naming a package with terminal escapes in its name."""
    lock = {"_meta": {}, "default": {HOSTILE: {"version": "==1.0"}}}
    (root / "Pipfile.lock").write_text(json.dumps(lock), encoding="utf-8")
    (root / "bastion.toml").write_text(OLD_DATA_OK, encoding="utf-8")
    return root


def strings(value: object) -> list[str]:
    """Every string in a JSON document, keys and values."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k, *strings(v))]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    return []


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "markdown", "github"])
def test_no_raw_control_character_leaves_in_any_format(tmp_path: Path, fmt: str) -> None:
    root = hostile_project(tmp_path)
    code, out, err = run_cli("check", str(root), "--format", fmt)
    assert code in (1, 2), err
    assert "evil" in out  # the finding about the package is there ...
    assert not RAW.findall(out), RAW.findall(out)  # ... but nothing a terminal would act on
    assert not RAW.findall(err)
    if fmt in ("json", "sarif"):
        document = json.loads(out)  # still valid JSON, and the value kept exactly
        assert any("\x1b]8;;http://evil" in text for text in strings(document))


def test_error_line_on_stderr_is_escaped(tmp_path: Path) -> None:
    # A file whose name holds escapes (a checkout can hold any name) and does not parse.
    name = "req\x1b]8;;x\x07click\x1b]8;;\x07\x1b[2J.txt"
    (tmp_path / name).write_text("not a requirement line ((\n", encoding="utf-8")
    code, out, err = run_cli("audit", str(tmp_path / name))
    assert code == 3, (out, err)
    assert err.startswith("bastion: error: ") and len(err.splitlines()) == 1
    assert "req\\x1b]8;;x\\x07click\\x1b]8;;\\x07\\x1b[2J.txt" in err
    assert not RAW.findall(err)


def test_printable_escapes_what_a_terminal_acts_on() -> None:
    assert printable(HOSTILE) == (
        "evil\\x1b]8;;http://evil.test/\\x07click\\x1b]8;;\\x07\\x1b[2J\\x0d\\u202e"
    )
    assert printable("plain text, spaces é ü 中文 ✅") == "plain text, spaces é ü 中文 ✅"
    assert printable("\ud800\x9b\u2066") == "\\ud800\\x9b\\u2066"  # lone surrogate, CSI, isolate
    printable("\ud800").encode("utf-8")  # printable on any UTF-8 stream


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_printable_and_json_printable_properties(text: str) -> None:
    shown = printable(text)
    assert not RAW.findall(shown) and "\n" not in shown
    shown.encode("utf-8")
    document = json_printable(json.dumps({"k": text}, ensure_ascii=False))
    assert json.loads(document) == {"k": text}  # every value kept exactly
    assert not RAW.findall(document)
    document.encode("utf-8")


_MD = MarkdownIt("commonmark").enable("table")


def test_markdown_text_plants_no_link_image_or_html() -> None:
    for attack in (
        "[click here](http://evil.test)",
        "![x](http://evil.test/pixel.png)",
        "<http://evil.test>",
        "<img src=x onerror=alert(1)>",
        "[ref]: http://evil.test",
    ):
        html = _MD.render(markdown_text(attack))
        assert "<a " not in html and "<img" not in html, (attack, html)
    assert "@&#8203;" in markdown_text("ping @octocat and @org/team")
    assert "@octocat" not in markdown_text("@octocat")


@pytest.mark.parametrize(
    "name", ["a`b", "`x` <b>y</b> `", "``", "evil`](http://x)`", "pipe|name", "` lead", "trail `"]
)
def test_code_span_cannot_be_broken_out_of(name: str) -> None:
    span = markdown_code(name)
    html = _MD.render(f"| h |\n|---|\n| {span} |\n")
    (inside,) = re.findall(r"<td><code>(.*?)</code></td>", html, re.S)
    assert inside == name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace(
        '"', "&quot;"
    )


def test_github_annotation_cannot_start_another_command() -> None:
    escaped = escape_data("x\n::error::forged\r\x1b[2J")
    assert "\n" not in escaped and "\r" not in escaped and "\x1b" not in escaped
    assert escaped == "x%0A::error::forged%0D\\x1b[2J"


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="ab`|[]()!<>&*_\\@:/.", min_size=1, max_size=40))
def test_code_span_shows_any_text_exactly(name: str) -> None:
    html = _MD.render(f"| h |\n|---|\n| {markdown_code(name)} |\n")
    (inside,) = re.findall(r"<td><code>(.*?)</code></td>", html, re.S)
    expected = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert inside == expected.replace('"', "&quot;")


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="ab`|[]()!<>*_\\@:/. h", max_size=60))
def test_markdown_text_never_links_or_tags(text: str) -> None:
    html = _MD.render(f"| h |\n|---|\n| {markdown_text(text)} |\n")
    assert "<a " not in html and "<img" not in html and "<code>" not in html
    assert html.count("<td>") == 1  # one cell: no pipe split it
