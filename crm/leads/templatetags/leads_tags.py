"""`{% load leads_tags %}`: phone display and links, sort headers of the lead list."""

import re
from functools import lru_cache

import phonenumbers
from django import template
from django.utils.http import urlencode

register = template.Library()


@lru_cache(maxsize=4096)
def _pretty(value: str) -> str:
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@register.filter
def phone_display(value):
    """+919876543210 -> +91 98765 43210 (E.164 stays the link target)."""
    return _pretty(str(value)) if value else ""


@register.filter
def wa_digits(value):
    """The digits WhatsApp's click-to-chat link wants: https://wa.me/919876543210."""
    return re.sub(r"\D", "", str(value or ""))


@register.simple_tag(takes_context=True)
def sort_header(context, column_name, current_sort, sort_keys):
    """{"url": query string sorting by this column (toggling), "state": "asc"|"desc"|None} or None."""
    key = sort_keys.get(column_name)
    if not key:
        return None
    active = current_sort.lstrip("-") == key
    descending = current_sort.startswith("-")
    if active:
        new = key if descending else f"-{key}"
    else:
        new = key if key in {"name", "phone", "next_follow_up"} else f"-{key}"
    params = context["request"].GET.copy()
    params.pop("page", None)
    params["sort"] = new
    return {
        "url": "?" + urlencode(sorted(params.lists()), doseq=True),
        "state": ("desc" if descending else "asc") if active else None,
    }


@register.filter
def contrast_text(colour):
    """Black or white, whichever reads better on the given #rrggbb background (WCAG relative luminance)."""
    match = re.fullmatch(r"#?([0-9a-fA-F]{6})", str(colour or ""))
    if not match:
        return "#fff"
    channels = [int(match.group(1)[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "#000" if luminance > 0.179 else "#fff"
