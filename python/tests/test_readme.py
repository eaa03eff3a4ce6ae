"""The README's "From Python" section works as written: its Python
blocks run, in order, in a fresh directory."""

import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def python_blocks():
    text = README.read_text(encoding="utf-8")
    section = text.split("## From Python", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_readme_from_python_runs(tmp_path, monkeypatch, capsys):
    blocks = python_blocks()
    assert blocks, "README has no Python block under 'From Python'"
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__readme__"}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    out = capsys.readouterr().out
    assert "'status': 'completed'" in out
    assert "['PO-1001', 'PO-999'" in out
    assert "{'Region': 'EU', 'count': 501" in out
