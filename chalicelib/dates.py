"""Dates as readers see them: on the author's own clock, in words. Pure."""
from __future__ import annotations

import datetime as dt
import re

_OFFSET_RE = re.compile(r"^([+-])(\d\d):(\d\d)(?::(\d\d))?$")


def in_offset(iso_text: str, offset: str | None = None) -> dt.datetime:
    """A stored UTC moment as the author's clock showed it ('+02:00'); UTC for a missing or odd offset."""
    moment = dt.datetime.fromisoformat(iso_text.replace("Z", "+00:00"))
    found = _OFFSET_RE.match(offset or "")
    if not found:
        return moment.astimezone(dt.timezone.utc)
    delta = dt.timedelta(hours=int(found.group(2)), minutes=int(found.group(3)), seconds=int(found.group(4) or 0))
    if delta >= dt.timedelta(days=1):
        return moment.astimezone(dt.timezone.utc)
    return moment.astimezone(dt.timezone(-delta if found.group(1) == "-" else delta))


def human_date(iso_text: str | None, offset: str | None = None) -> str:
    """'2013-04-20T00:00:00Z' -> '20 April 2013', on the author's calendar when `offset` is given."""
    if not iso_text:
        return ""
    moment = in_offset(iso_text, offset)
    return f"{moment.day} {moment.strftime('%B %Y')}"


def local_iso(iso_text: str | None, offset: str | None = None) -> str:
    """A `<time datetime>` value in the author's offset: '2013-04-20T12:00:00+02:00'."""
    if not iso_text:
        return ""
    return in_offset(iso_text, offset).isoformat().replace("+00:00", "Z")


def month_name(year_month: str) -> str:
    """'2013-04' -> 'April 2013'."""
    year, month = year_month.split("-")
    return f"{dt.date(int(year), int(month), 1).strftime('%B')} {year}"
