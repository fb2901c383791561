from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def num(value, url=None, label=""):
    """A number, linked to the lead list showing exactly the leads it counts (when such a link exists)."""
    text = "–" if value is None else intcomma(value)
    if url:
        title = f"Show these leads{': ' + label if label else ''}"
        return format_html('<a href="{}" class="num-link" title="{}">{}</a>', url, title, text)
    return format_html('<span class="num">{}</span>', text)


@register.filter
def pct(value):
    return "–" if value is None else f"{value:.1f}%"


@register.filter
def get(mapping, key):
    return mapping.get(key) if mapping else None


@register.filter
def lead_url(lead):
    """The lead's page ("" while the lead pages are not installed)."""
    from crm.dashboards.links import page_url

    return page_url("leads:detail", lead.uuid) or ""
