"""Languages and number formats of the report: French typography (non-breaking spaces), numbers,
percentages, durations and dates, and ``Lang``, through which the template reads every message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from core.errors import ConfigError
from dashboards.i18n.defects import DEFECTS
from dashboards.i18n.messages import MESSAGES, SOURCE_DDD

LANGUAGES = ("fr", "en")
NBSP = "\u00a0"  # before % and units in French, so "99,5 %" never breaks across lines
NNBSP = "\u202f"  # French thousands separator

MONTHS = (
    [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
    [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
)


def french_spaces(text: str) -> str:
    """Non-breaking spaces before high punctuation and inside guillemets (French typography), applied
    to the catalogue rather than written into it, so that its sentences stay easy to edit."""
    for plain, tied in ((" %", NBSP + "%"), (" :", NBSP + ":"), (" ;", NNBSP + ";"), ("« ", "«" + NBSP)):
        text = text.replace(plain, tied)
    return text.replace(" »", NBSP + "»")


def language(code: str) -> Lang:
    """The catalogue of a language; an unknown code is a one-line error listing the choices."""
    if code not in LANGUAGES:
        raise ConfigError("lang", f"unknown language {code!r}; expected one of {', '.join(LANGUAGES)}")
    return Lang(code)


@dataclass(frozen=True)
class Lang:
    code: str

    @property
    def _i(self) -> int:
        return LANGUAGES.index(self.code)

    def t(self, key: str, **values: object) -> str:
        """A message, with ``{name}`` fields filled in."""
        text = MESSAGES[key][self._i]
        if self.code == "fr":
            text = french_spaces(text)
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in MESSAGES

    def _typeset(self, text: str) -> str:
        return french_spaces(text) if self.code == "fr" else text

    def defect_title(self, defect: str, fallback: str) -> str:
        found = DEFECTS.get(defect)
        return self._typeset(found[0][self._i]) if found else fallback or defect

    def defect_lives(self, defect: str) -> str | None:
        found = DEFECTS.get(defect)
        return self._typeset(found[1][self._i]) if found else None

    @property
    def colon(self) -> str:
        """ "Verdict : " in French, "Verdict: " in English."""
        return NBSP + ":" if self.code == "fr" else ":"

    @property
    def source(self) -> str:
        return self._typeset(SOURCE_DDD[self._i])

    def num(self, value: float, digits: int = 0) -> str:
        text = f"{value:,.{digits}f}"
        if self.code == "fr":
            text = text.replace(",", NNBSP).replace(".", ",")
        return text.replace("-", "−")

    def pct(self, ratio: float | None, digits: int = 1) -> str:
        """``0.995`` → "99,5 %" (French, non-breaking space) or "99.5%" (English)."""
        if ratio is None:
            return "—"
        number = self.num(ratio * 100, digits)
        return f"{number}{NBSP}%" if self.code == "fr" else f"{number}%"

    def objective(self, ratio: float) -> str:
        """An objective with the digits it needs: "99 %", "99,9 %", "99,999 %"."""
        value = ratio * 100
        digits = next((d for d in range(5) if abs(round(value, d) - value) < 1e-9), 4)
        return self.pct(ratio, digits)

    def ms(self, value: float | None) -> str:
        if value is None:
            return "—"
        return f"{self.num(value, 1 if abs(value) < 10 else 0)}{NBSP}ms"

    def seconds(self, value: float | None) -> str:
        return "—" if value is None else f"{self.num(value, 1 if abs(value) < 100 else 0)}{NBSP}s"

    def day(self, value: date | None) -> str:
        if value is None:
            return "—"
        month = MONTHS[self._i][value.month - 1]
        return f"{value.day} {month} {value.year}"

    def moment(self, value: datetime | None) -> str:
        """A date and time, in UTC (the manifest's times are UTC; a reader may be anywhere)."""
        if value is None:
            return "—"
        value = value.astimezone(UTC) if value.tzinfo else value
        joined = " à " if self.code == "fr" else ", "
        return f"{self.day(value.date())}{joined}{value:%H:%M:%S} UTC"

    def clock(self, value: datetime) -> str:
        return f"{value.astimezone(UTC):%H:%M:%S} UTC"

    def signed(self, text: str, value: float) -> str:
        return f"+{text}" if value > 0 else text  # num() already writes the minus sign
