"""French dates, exact and approximate."""

from __future__ import annotations

import pytest

from bot.text.dates import french_date


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2020-08-05", "5 août 2020"),
        ("2025-07-01", "1er juillet 2025"),
        ("2025-12-25", "25 décembre 2025"),
        ("2018-02-28T10:00:00", "28 février 2018"),
        ("2020-08", "août 2020"),
        ("2019", "2019"),
        ("hier", "hier"),
        ("2020-13", "2020-13"),
        ("~2018-12-28", "vers le 28 décembre 2018"),
        ("~2018-12", "vers décembre 2018"),
        ("", None),
        (None, None),
    ],
)
def test_french_date(value: str | None, expected: str | None) -> None:
    assert french_date(value) == expected
