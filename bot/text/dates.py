"""French dates: "2020-08-05" reads "5 août 2020", an approximate one ("~2018-12-28") "vers le 28 décembre 2018"."""

from __future__ import annotations

import datetime as dt
import re

_MONTHS = """
    janvier février mars avril mai juin juillet août septembre octobre novembre décembre
""".split()
APPROXIMATE = "~"  # in front of a document's date (sources.toml, JSON Lines): known only roughly


def french_date(value: str | None) -> str | None:
    """ "2020-08-05" -> "5 août 2020"; "2020-08" -> "août 2020"; "~2020-08-05" -> "vers le 5 août 2020";
    anything else unchanged."""
    if not value:
        return None
    value = value.strip()
    if value.startswith(APPROXIMATE):
        exact = french_date(value[len(APPROXIMATE) :])
        if not exact:
            return None
        return f"vers le {exact}" if exact[0].isdigit() else f"vers {exact}"
    try:
        day = dt.date.fromisoformat(value[:10])
    except ValueError:
        match = re.fullmatch(r"(\d{4})-(\d{2})", value)
        if match and 1 <= int(match.group(2)) <= 12:
            return f"{_MONTHS[int(match.group(2)) - 1]} {match.group(1)}"
        return value
    first = "1er" if day.day == 1 else str(day.day)
    return f"{first} {_MONTHS[day.month - 1]} {day.year}"
