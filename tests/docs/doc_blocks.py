"""Shell blocks of the Markdown guides, as the executable-docs test runs them.

A guide's ```sh (or ```bash) blocks run in order in one bash process, so a variable one block
sets is seen by the next, exactly as a reader pasting them into one terminal would. Two markers
steer the runner, both invisible when the Markdown is rendered:

- `<!-- docs-test: skip REASON -->` on the line before a fence: the block is not run (it starts a
  long-lived server, needs Docker, ...); the reason is required.
- `# expect: REGEX` as a line inside a block: the output of the lines since the previous marker
  must match REGEX (Python `re.search`, multiline), so a doc that says what a command prints
  is checked on it. Consecutive markers all apply to the same output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Segment", "ShellBlock", "shell_blocks", "script"]

_FENCE = re.compile(r"^(?P<indent>\s*)```(?P<lang>\w*)\s*$")
_SKIP = re.compile(r"^<!--\s*docs-test:\s*skip\s+(?P<reason>\S.*?)\s*-->\s*$")
_EXPECT = re.compile(r"^\s*#\s*expect:\s*(?P<regex>.+?)\s*$")
_SHELLS = {"sh", "bash", "shell"}


@dataclass(frozen=True, slots=True)
class Segment:
    """Lines of a block up to `# expect:` markers, and the patterns their output must match."""

    lines: tuple[str, ...]
    expects: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ShellBlock:
    """One shell block of a guide: where it starts, whether it runs, and its segments."""

    path: Path
    line: int
    skip_reason: str | None
    segments: tuple[Segment, ...] = field(default=())


def shell_blocks(path: Path) -> list[ShellBlock]:
    """Every shell block of the Markdown file at `path`, in order."""
    blocks: list[ShellBlock] = []
    lines = path.read_text().splitlines()
    index = 0
    while index < len(lines):
        fence = _FENCE.match(lines[index])
        if not fence or fence.group("lang") not in _SHELLS:
            if fence:  # a non-shell block: skip to its closing fence
                index = _closing_fence(lines, index)
            index += 1
            continue
        previous = lines[index - 1].strip() if index > 0 else ""
        skip = _SKIP.match(previous)
        indent = len(fence.group("indent"))
        end = _closing_fence(lines, index)
        blocks.append(
            ShellBlock(
                path=path,
                line=index + 1,
                skip_reason=skip.group("reason") if skip else None,
                segments=_segments([line[indent:] for line in lines[index + 1 : end]]),
            )
        )
        index = end + 1
    return blocks


def script(blocks: list[ShellBlock], marker: str) -> str:
    """One bash script running every block that is not skipped; `marker` + n ends segment n."""
    parts = ["set -euo pipefail"]
    number = 0
    for block in blocks:
        if block.skip_reason is not None:
            continue
        for segment in block.segments:
            parts.extend(segment.lines)
            parts.append(f"echo '{marker}{number}'")
            number += 1
    return "\n".join(parts) + "\n"


def _closing_fence(lines: list[str], opening: int) -> int:
    for index in range(opening + 1, len(lines)):
        if lines[index].lstrip().startswith("```"):
            return index
    raise ValueError(f"unclosed code fence at line {opening + 1}")


def _segments(body: list[str]) -> tuple[Segment, ...]:
    segments: list[Segment] = []
    current: list[str] = []
    for line in body:
        expect = _EXPECT.match(line)
        if expect and not current and segments:  # another marker for the same output
            last = segments[-1]
            segments[-1] = Segment(last.lines, (*last.expects, expect.group("regex")))
        elif expect:
            segments.append(Segment(tuple(current), (expect.group("regex"),)))
            current = []
        else:
            current.append(line)
    if current:
        segments.append(Segment(tuple(current), ()))
    return tuple(segments)
