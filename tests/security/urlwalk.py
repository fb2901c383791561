"""Every URL the project answers, built generically from the resolver with sample values for its parameters.

Each app's URLs are picked up as they land: nothing here names them. Path converters get a value of their
type (int, uuid, slug, str, path, and any custom converter through its regex); regex patterns get a value
that their group's regex accepts. Each built URL is checked to resolve back to the same pattern.
"""

import re
import uuid
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.converters import IntConverter, PathConverter, SlugConverter, StringConverter, UUIDConverter
from django.urls.exceptions import Resolver404
from django.urls.resolvers import RegexPattern, RoutePattern

SAMPLE_UUID = str(uuid.UUID("12345678-1234-5678-1234-567812345678"))
CANDIDATES = ["1", SAMPLE_UUID, "sample", "sample/1", "a", "x1"]


@dataclass(frozen=True)
class Route:
    url: str
    name: str  # "namespace:name", or the route text when the pattern has no name
    callback: object

    def __str__(self):
        return f"{self.name} ({self.url})"


def _sample_for_converter(converter) -> str:
    kind = type(converter)
    if issubclass(kind, IntConverter):
        return "1"
    if issubclass(kind, UUIDConverter):
        return SAMPLE_UUID
    if issubclass(kind, SlugConverter):
        return "sample-slug"
    if issubclass(kind, PathConverter):
        return "sample/1"
    if issubclass(kind, StringConverter):
        return "sample"
    for candidate in CANDIDATES:  # a custom converter: the first sample its regex accepts
        if re.fullmatch(converter.regex, candidate):
            return candidate
    raise ValueError(f"no sample value for converter {kind.__name__} ({converter.regex})")


def _fill_route(pattern: RoutePattern) -> str:
    route = str(pattern)
    for name, converter in pattern.converters.items():
        route = re.sub(rf"<(?:\w+:)?{name}>", _sample_for_converter(converter), route, count=1)
    return route


def _group_regex(regex: str, name: str) -> str:
    """The text of the named group `name` in `regex` (balanced parentheses)."""
    start = regex.index(f"(?P<{name}>") + len(f"(?P<{name}>")
    depth, i = 1, start
    while depth:
        if regex[i] == "\\":
            i += 2
            continue
        depth += {"(": 1, ")": -1}.get(regex[i], 0)
        i += 1
    return regex[start : i - 1]


def _sample_for_group(group: str) -> str:
    alternatives = group.split("|")
    if all(re.fullmatch(r"[\w-]+", alt) for alt in alternatives):
        return alternatives[0]
    for candidate in CANDIDATES:
        if re.fullmatch(group, candidate):
            return candidate
    return ""


def _fill_regex(pattern: RegexPattern) -> str:
    regex = pattern.regex.pattern
    text = regex.removeprefix("^").removesuffix("$").removesuffix("\\Z")
    for name in pattern.regex.groupindex:
        group = _group_regex(regex, name)
        text = text.replace(f"(?P<{name}>{group})", _sample_for_group(group))
    # What is left: optional slashes/groups and escapes of a simple route regex.
    text = re.sub(r"\(\?:[^)]*\)\?", "", text)
    text = text.replace("/?", "/").replace("?", "").replace("\\.", ".").replace("\\", "")
    return text


def _fill(pattern) -> str:
    return _fill_route(pattern) if isinstance(pattern, RoutePattern) else _fill_regex(pattern)


def _walk(patterns, prefix: str, namespace: str):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = ":".join(filter(None, [namespace, entry.namespace]))
            yield from _walk(entry.url_patterns, prefix + _fill(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            url = "/" + prefix + _fill(entry.pattern)
            name = ":".join(filter(None, [namespace, entry.name])) if entry.name else str(entry.pattern)
            yield Route(url=url, name=name, callback=entry.callback)


def all_routes() -> list[Route]:
    """One sample URL per URL pattern (duplicates of the same URL kept once)."""
    routes, seen = [], set()
    for route in _walk(get_resolver().url_patterns, "", ""):
        try:
            match = resolve(route.url)
        except Resolver404 as exc:
            raise AssertionError(f"the sample URL {route.url} for {route.name} does not resolve") from exc
        if route.url in seen:
            continue
        seen.add(route.url)
        routes.append(Route(url=route.url, name=route.name, callback=match.func))
    return routes
