"""Spreadsheet cells to lead values, one row at a time (the hot path of an import: keep it lean).

`RowNormaliser(...)(cells)` returns (record, errors, warnings): `record` is a list aligned with
LOAD_FIELDS, `errors` reject the row, `warnings` (cells cut to their field's maximum, an unknown stage)
are reported while the lead is still imported.
"""

import re
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from crm.leads.models import Lead, Stage
from crm.leads.phones import InvalidPhone, normalise_phone

from . import limits
from .mapping import FIELDS

LOAD_FIELDS = (
    "name", "phone", "alternate_phones", "email", "area", "city", "state", "country", "source", "interest",
    "value", "lead_date", "remark", "notes", "stage_id",
)
INDEX = {field: i for i, field in enumerate(LOAD_FIELDS)}
TEXT_FIELDS = {"name", "area", "city", "state", "country", "source", "interest", "remark", "notes"}
UPDATABLE = [f for f in LOAD_FIELDS if f != "stage_id"]

_EMAIL = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~.-]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$")
_NUMERIC_DATE = re.compile(r"^(\d{1,4})[/.\-](\d{1,2})[/.\-](\d{1,4})(?:[T ,].*)?$")
_SERIAL = re.compile(r"^\d{1,6}(\.\d+)?$")
_MONTHS = {m: i + 1 for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}
_NAMED_DATE = re.compile(r"^(\d{1,2})[\s\-/.]*([a-z]{3,9})[\s\-/.,]*(\d{2,4})$|^([a-z]{3,9})[\s\-/.]*(\d{1,2})[\s,\-/.]+(\d{2,4})$")
_SPLIT_PHONES = re.compile(r"[,;/|\n]+")
_MONEY = re.compile(r"[₹$€£,\s]|^(?:rs\.?|inr)", re.IGNORECASE)
_EPOCH_1900 = date(1899, 12, 30)
_EPOCH_1904 = date(1904, 1, 1)


class RowProblem(ValueError):
    pass


def max_length(field: str) -> int | None:
    if field in {"remark", "notes"}:
        return limits.text_max_chars()
    if field in {"first_name", "last_name"}:
        return Lead._meta.get_field("name").max_length
    return getattr(Lead._meta.get_field(field), "max_length", None)


def to_text(value) -> str:
    if value is None:
        return ""
    kind = type(value)
    if kind is str:
        return value.strip()
    if kind is float:
        return str(int(value)) if value.is_integer() else repr(value)
    if kind is bool:
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def to_phone(value) -> str | None:
    if type(value) is float:
        if not value.is_integer():
            raise RowProblem(f"“{value}” is not a phone number.")
        value = str(int(value))
    elif type(value) is int:
        value = str(value)
    try:
        return normalise_phone(value)
    except InvalidPhone as problem:
        raise RowProblem(str(problem)) from None


def to_email(value) -> str | None:
    text = to_text(value).lower()
    if not text:
        return None
    if text.startswith("mailto:"):
        text = text[7:]
    if len(text) > 254 or not _EMAIL.match(text):
        raise RowProblem(f"“{to_text(value)}” is not a valid e-mail address.")
    return text


def serial_to_date(serial: float, date1904: bool) -> date:
    if not 1 <= serial < 2958466:
        raise RowProblem(f"“{serial:g}” is not a date.")
    if date1904:
        return _EPOCH_1904 + timedelta(days=int(serial))
    return _EPOCH_1900 + timedelta(days=int(serial))


@lru_cache(maxsize=20_000)
def parse_date_text(text: str, day_first: bool, date1904: bool) -> date:
    lowered = text.strip().lower()
    try:
        match = _ISO.match(lowered)
        if match:
            return date(int(match[1]), int(match[2]), int(match[3]))
        match = _NUMERIC_DATE.match(lowered)
        if match:
            a, b, c = match[1], match[2], match[3]
            if len(a) == 4:
                return date(int(a), int(b), int(c))
            year = int(c) + (2000 if len(c) == 2 and int(c) < 70 else 1900 if len(c) == 2 else 0)
            first, second = int(a), int(b)
            day, month = (first, second) if day_first else (second, first)
            if month > 12 and day <= 12:  # 3/25/2026 in a day-first file is still unambiguous
                day, month = month, day
            return date(year, month, day)
        match = _NAMED_DATE.match(lowered)
        if match:
            if match[1]:
                day, month_name, year_text = match[1], match[2], match[3]
            else:
                month_name, day, year_text = match[4], match[5], match[6]
            month = _MONTHS.get(month_name[:3])
            if month:
                year = int(year_text) + (2000 if len(year_text) == 2 else 0)
                return date(year, month, int(day))
        if _SERIAL.match(lowered):
            return serial_to_date(float(lowered), date1904)
    except ValueError:
        pass
    raise RowProblem(
        f"“{text}” is not a date we can read: use 2026-03-31, 31/03/2026{'' if day_first else ' (month first)'} "
        "or an Excel date."
    )


def to_date(value, day_first: bool, date1904: bool) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if type(value) in (float, int):
        return serial_to_date(float(value), date1904)
    text = to_text(value)
    if not text:
        return None
    return parse_date_text(text, day_first, date1904)


def to_value(value) -> Decimal | None:
    if value is None or value == "":
        return None
    if type(value) in (int, float):
        number = Decimal(str(value))
    else:
        text = _MONEY.sub("", to_text(value))
        if not text:
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise RowProblem(f"“{to_text(value)}” is not an amount.") from None
    if not number.is_finite() or abs(number) >= Decimal(10) ** 12:
        raise RowProblem(f"“{to_text(value)}” is not an amount we can store (at most 12 digits before the point).")
    return number.quantize(Decimal("0.01"))


class RowNormaliser:
    """Compiled once per import from its mapping; called once per row."""

    def __init__(self, *, columns, mapping, defaults, day_first=True, date1904=False):
        self.columns = columns
        self.day_first = day_first
        self.date1904 = date1904
        stages = {stage.name.strip().lower(): stage.pk for stage in Stage.objects.filter(is_active=True)}
        self.stages = stages
        default_stage = defaults.get("stage")
        if default_stage and int(default_stage) in stages.values():
            self.default_stage = int(default_stage)
        else:
            first = Stage.objects.filter(is_active=True).order_by("position", "id").first()
            self.default_stage = first.pk if first else None
        self.template = [""] * len(LOAD_FIELDS)
        for field in ("phone", "email", "value", "lead_date"):
            self.template[INDEX[field]] = None
        self.template[INDEX["stage_id"]] = self.default_stage
        self.fallbacks = {}
        for field in ("source", "interest"):
            text = to_text(defaults.get(field, ""))[: max_length(field)]
            self.template[INDEX[field]] = text
            self.fallbacks[INDEX[field]] = text
        self.plan = []
        self.split_name = None
        mapped = {}
        for key, field in mapping.items():
            if field in FIELDS and field not in mapped:
                mapped[field] = int(key)
        self.mapped_fields = {f for f in mapped if f not in {"first_name", "last_name"}}
        if ("first_name" in mapped or "last_name" in mapped) and "name" not in mapped:
            self.split_name = (mapped.get("first_name"), mapped.get("last_name"))
            self.mapped_fields.add("name")
        for field, index in mapped.items():
            if field in {"first_name", "last_name"}:
                continue
            name = self.column_name(index)
            self.plan.append((index, field, name, max_length(field)))

    def column_name(self, index) -> str:
        header = self.columns[index] if index < len(self.columns) else ""
        return str(header).strip() or f"Column {index + 1}"

    def __call__(self, cells):
        record = self.template.copy()
        errors = None
        warnings = None
        width = len(cells)
        for index, field, name, limit in self.plan:
            value = cells[index] if index < width else None
            try:
                if field in TEXT_FIELDS:
                    text = to_text(value)
                    if limit and len(text) > limit:
                        (warnings := warnings or []).append(
                            (name, f"{name} was {len(text):,} characters long and was cut to {limit:,}.")
                        )
                        text = text[:limit]
                    if text or field not in ("source", "interest"):
                        record[INDEX[field]] = text
                elif field == "phone":
                    record[1] = to_phone(value)
                elif field == "email":
                    record[3] = to_email(value)
                elif field == "alternate_phones":
                    record[2] = self.alternate_phones(value, name, warnings_box := [])
                    if warnings_box:
                        warnings = (warnings or []) + warnings_box
                elif field == "lead_date":
                    record[11] = to_date(value, self.day_first, self.date1904)
                elif field == "value":
                    record[10] = to_value(value)
                elif field == "stage":
                    text = to_text(value)
                    if text:
                        stage_id = self.stages.get(text.lower())
                        if stage_id is None:
                            (warnings := warnings or []).append(
                                (name, f"“{text}” is not a pipeline stage, so the lead starts in the default stage.")
                            )
                        else:
                            record[14] = stage_id
            except RowProblem as problem:
                (errors := errors or []).append((name, str(problem)))
        if self.split_name:
            parts = [to_text(cells[i]) if i is not None and i < width else "" for i in self.split_name]
            record[0] = " ".join(part for part in parts if part)[:200]
        if not errors and record[1] is None and record[3] is None:
            errors = [("", "This row has no phone number and no e-mail address, so it cannot be a lead.")]
        return record, errors, warnings

    def alternate_phones(self, value, name, warnings) -> str:
        if type(value) in (int, float):
            value = to_text(value)
        text = to_text(value)
        if not text:
            return ""
        numbers = []
        for part in _SPLIT_PHONES.split(text):
            part = part.strip()
            if not part:
                continue
            try:
                numbers.append(normalise_phone(part) or part)
            except InvalidPhone:
                numbers.append(part)
                warnings.append((name, f"“{part}” is not a valid phone number; it was kept as written."))
        joined = ", ".join(numbers)
        limit = max_length("alternate_phones")
        if len(joined) > limit:
            warnings.append((name, f"{name} was {len(joined):,} characters long and was cut to {limit:,}."))
            joined = joined[:limit]
        return joined


def identity(record) -> tuple[str | None, str | None]:
    return record[1], record[3]
