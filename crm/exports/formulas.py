"""Formula-injection neutralisation shared by the CSV and XLSX writers (see writers.py for the rules)."""

import re

DANGEROUS_FIRST = frozenset("=+-@\t\r")
E164 = re.compile(r"\+[1-9]\d{6,14}")
# Characters no XML document may hold (and junk in a CSV too); tab, LF and CR are allowed.
ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def neutralise(text: str) -> str:
    """The text as a spreadsheet should store it: control characters removed, a leading ' before a
    first character that would start a formula."""
    if not text.isprintable():  # a fast test that is true for nearly every value
        text = ILLEGAL.sub("", text)
    if text and text[0] in DANGEROUS_FIRST:
        return "'" + text
    return text
