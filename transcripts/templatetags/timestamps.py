"""`{{ seconds|timestamp }}` → "1:02:03" or "2:03", for durations and segment starts."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def timestamp(seconds: float | int | None) -> str:
    if seconds is None:
        return ""
    total = max(int(float(seconds)), 0)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
