"""The one phone normaliser: forms, imports and search all call normalise_phone().

It returns E.164 ("+919876543210") for the ways people write numbers, using DEFAULT_PHONE_REGION for
numbers without a country code, and raises InvalidPhone with a message a user can act on otherwise.
A fast path handles the common shapes of the default region without phonenumbers; everything else
goes through phonenumbers (parse + validate), cached.
"""

import re
from functools import lru_cache

import phonenumbers
from django.conf import settings

_SEPARATORS = re.compile(r"[\s\-().\u00a0/]")
_SCIENTIFIC = re.compile(r"^[+-]?\d(\.\d+)?[eE][+-]?\d+$")
_FLOAT_ARTEFACT = re.compile(r"^(\d+)\.0+$")
# Indian mobile numbers: 10 digits starting 6-9, optionally with 0, 91 or +91 in front.
_IN_MOBILE = re.compile(r"^(?:\+?91|0)?([6-9]\d{9})$")


class InvalidPhone(ValueError):
    pass


def normalise_phone(value, region: str | None = None) -> str | None:
    """E.164 for a phone number written any common way; None for an empty value; InvalidPhone otherwise."""
    if value is None:
        return None
    text = str(value).strip()
    if not text or text.lower() in {"nan", "none", "null", "-"}:
        return None
    if _SCIENTIFIC.match(text):
        raise InvalidPhone(
            f"“{text}” is a number Excel turned into scientific notation, which has lost digits. "
            "Format the phone column as text in the spreadsheet and export it again."
        )
    match = _FLOAT_ARTEFACT.match(text)
    if match:  # 9876543210.0: a number column read as a float
        text = match.group(1)
    region = (region or settings.DEFAULT_PHONE_REGION).upper()
    compact = _SEPARATORS.sub("", text)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if region == "IN":
        fast = _IN_MOBILE.match(compact)
        if fast:
            return "+91" + fast.group(1)
    return _normalise_slow(compact, region, text)


@lru_cache(maxsize=65536)
def _normalise_slow(compact: str, region: str, original: str) -> str:
    if not re.fullmatch(r"\+?\d{4,17}", compact):
        raise InvalidPhone(f"“{original}” is not a phone number: use digits, spaces, dashes and an optional +.")
    try:
        number = phonenumbers.parse(compact, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhone(f"“{original}” is not a phone number.") from None
    if not phonenumbers.is_valid_number(number):
        # People write the country code without the +: 919876543210.
        if not compact.startswith("+"):
            try:
                with_plus = phonenumbers.parse("+" + compact, None)
            except phonenumbers.NumberParseException:
                with_plus = None
            if with_plus is not None and phonenumbers.is_valid_number(with_plus):
                return phonenumbers.format_number(with_plus, phonenumbers.PhoneNumberFormat.E164)
        raise InvalidPhone(
            f"“{original}” is not a valid phone number for {region}: check the digits, or add the country code (+…)."
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_search_key(value) -> str | None:
    """For search boxes: E.164 when the text is a whole phone number, else None (search by digits instead)."""
    try:
        return normalise_phone(value)
    except InvalidPhone:
        return None
