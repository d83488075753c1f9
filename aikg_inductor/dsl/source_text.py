"""Characters that make a kernel source look, to a person, other than what the compiler reads.

Accepted sources are read by people too (so a source is plain ASCII, newline and tab): ``aikg cache show``, ``cat``, ``git diff``, CI logs. ASCII control
characters act on the terminal that prints them (ESC [2K erases the line, a lone CR returns to its start, BS steps
back) and Unicode's bidirectional controls reorder the text after them ("Trojan Source"), so code can stand on a line
a reviewer sees as empty or as something else. Seen in review 11: ``if (in_ptr0[0] == 1234.5f) {...; return; }``
followed by ``// ESC[2K ESC[G``, an empty line on screen. Every DSL's source check refuses them first
(``check_characters``); ``escaped`` shows those an older cache entry may still hold.
"""

from __future__ import annotations

import re

from .violations import GuardViolation

# Every C0 control but newline and tab (a carriage return only as part of a Windows line end), DEL, and every
# character outside ASCII: C1 controls, bidirectional controls, and the invisible or look-alike characters Python
# admits in names (review 12: `tmp4` and `tmp4` followed by a variation selector are two variables that print alike;
# so are zero-width joiners, Hangul fillers, tag characters and Cyrillic look-alikes). Kernels need none of them.
_HIDDEN = re.compile("\r(?!\n)|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\U0010ffff]")


def check_characters(source: str) -> GuardViolation | None:
    """``guard:text`` for the first character of ``source`` a terminal or editor would not show as it is, or None."""
    match = _HIDDEN.search(source)
    if match is None:
        return None
    line = source.count("\n", 0, match.start()) + 1
    column = match.start() - (source.rfind("\n", 0, match.start()) + 1) + 1
    return GuardViolation("guard:text", f"character {_escape(match)} at line {line}, column {column}: kernel sources "
                                        "are plain ASCII without control characters, so that a terminal or editor "
                                        "shows them as the compiler reads them")


def escaped(text: str) -> str:
    """``text`` with every character ``check_characters`` refuses written as its Python escape (``\\x1b``), for
    printing to a terminal."""
    return _HIDDEN.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    return match.group().encode("unicode_escape").decode("ascii")
