"""Outside text (file and document names, web addresses, questions, server names) as it enters a log line.

Written the way `repr` writes a string: quoted, with newlines, terminal escape sequences and other invisible
characters as backslash escapes, so such text can neither start a forged log line nor recolour a terminal.
"""

from __future__ import annotations


def log_text(value: object) -> str:
    """`value` as one inert log token: `'a\\nb\\x1b[31m'` for a name holding a newline and a colour code."""
    return repr(str(value))
