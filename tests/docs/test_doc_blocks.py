"""The executable-docs parser: which blocks run, what they expect, and how they are joined."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.docs.doc_blocks import script, shell_blocks

GUIDE = """# A guide

<!-- docs-test: skip starts a server -->
```sh
make serve
```

```json
{"not": "shell"}
```

1. A step in a list:

   ```bash
   X=$(echo hello)
   echo "$X world"
   # expect: ^hello world$
   # expect: world
   echo tail
   ```

```sh
echo "$X again"
# expect: hello again
```
"""


def _blocks(tmp_path: Path) -> list:
    path = tmp_path / "guide.md"
    path.write_text(GUIDE)
    return shell_blocks(path)


def test_shell_blocks_are_found_with_skip_reasons_and_expectations(tmp_path: Path) -> None:
    blocks = _blocks(tmp_path)
    assert [b.skip_reason for b in blocks] == ["starts a server", None, None]
    listed = blocks[1]
    assert [s.expects for s in listed.segments] == [("^hello world$", "world"), ()]
    assert listed.segments[0].lines == ('X=$(echo hello)', 'echo "$X world"')  # indent removed


def test_script_runs_blocks_in_one_shell_and_marks_each_segment(tmp_path: Path) -> None:
    text = script(_blocks(tmp_path), "@@m")
    assert "make serve" not in text
    run = subprocess.run(["bash", "-c", text], capture_output=True, text=True, check=True)
    assert run.stdout.split("\n") == [
        "hello world", "@@m0", "tail", "@@m1", "hello again", "@@m2", ""
    ]


def test_script_stops_at_the_first_failing_command(tmp_path: Path) -> None:
    path = tmp_path / "broken.md"
    path.write_text("```sh\nfalse\necho unreachable\n```\n")
    run = subprocess.run(["bash", "-c", script(shell_blocks(path), "@@m")], capture_output=True, text=True)
    assert run.returncode != 0
    assert "unreachable" not in run.stdout
