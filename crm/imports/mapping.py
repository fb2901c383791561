"""Which lead field a spreadsheet column holds, guessed from its header whatever the case, spacing and wording."""

import re
import unicodedata

# Target fields, in the order the mapping step lists them, with what people call them in spreadsheets.
FIELDS = {
    "name": ("Name", ["name", "full name", "student name", "lead name", "contact name", "customer name",
                      "candidate name", "client name", "person", "applicant name", "student", "contact person",
                      "customer", "candidate", "applicant", "lead"]),
    "first_name": ("First name", ["first name", "firstname", "given name", "fname", "forename"]),
    "last_name": ("Last name", ["last name", "lastname", "surname", "family name", "lname"]),
    "phone": ("Phone", ["phone", "phone number", "phone no", "mobile", "mobile number", "mobile no", "mob",
                        "mob no", "contact", "contact no", "contact number", "cell", "cell phone", "telephone",
                        "tel", "whatsapp", "whatsapp number", "primary phone", "phone 1", "mobile 1",
                        "contact no 1", "ph", "ph no", "phno", "number", "mobile phone"]),
    "alternate_phones": ("Alternate phones", ["alternate phone", "alternate number", "alternate mobile",
                                              "alt phone", "alternative phone", "secondary phone",
                                              "other phone", "phone 2", "mobile 2", "landline",
                                              "alternate contact", "parent phone", "parent mobile",
                                              "guardian phone", "father mobile", "mother mobile"]),
    "email": ("E-mail", ["email", "e mail", "email address", "e mail address", "email id", "mail id", "mail",
                         "e mail id", "emailid"]),
    "area": ("Area", ["area", "locality", "location", "address", "place", "neighbourhood", "neighborhood",
                      "region", "district", "town", "address line"]),
    "city": ("City", ["city", "town city", "city town"]),
    "state": ("State", ["state", "province", "state province"]),
    "country": ("Country", ["country", "nation", "country name"]),
    "source": ("Source", ["source", "lead source", "channel", "campaign", "medium", "utm source", "origin"]),
    "interest": ("Interest (course or product)", ["interest", "course", "course interested",
                                                  "interested course", "program", "programme", "product",
                                                  "interested in", "course name", "stream", "service",
                                                  "requirement", "enquiry for", "subject"]),
    "value": ("Deal value", ["value", "deal value", "amount", "budget", "deal amount", "price", "fee",
                             "expected revenue", "revenue"]),
    "lead_date": ("Lead date", ["date", "lead date", "enquiry date", "inquiry date", "created", "created on",
                                "created date", "date added", "registration date", "submitted on",
                                "timestamp", "date of enquiry", "received on"]),
    "remark": ("Remark", ["remark", "remarks", "comment", "comments", "feedback", "description", "message",
                          "query", "enquiry", "inquiry", "status remark"]),
    "notes": ("Notes", ["notes", "note", "additional notes", "details", "other details", "additional info"]),
    "stage": ("Stage", ["stage", "status", "lead status", "lead stage", "pipeline stage"]),
}

FIELD_CHOICES = [(key, label) for key, (label, _) in FIELDS.items()]
IDENTITY_FIELDS = {"phone", "email"}


def clean_header(value) -> str:
    """'  Contact No. ' -> 'contact no'; accents folded, punctuation and extra spaces removed."""
    text = unicodedata.normalize("NFKD", str(value or "")).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", " ", text.lower().replace("e-mail", "email"))
    return " ".join(text.split())


_EXACT = {}
for _field, (_label, _words) in FIELDS.items():
    for _word in _words:
        _EXACT.setdefault(clean_header(_word), _field)
    _EXACT.setdefault(clean_header(_label), _field)

# Words that, found anywhere in a header, point at a field (checked in this order).
_CONTAINS = [
    ("email", "email"), ("mail", "email"), ("whatsapp", "phone"), ("mobile", "phone"), ("phone", "phone"),
    ("contact no", "phone"), ("contact number", "phone"), ("first name", "first_name"),
    ("last name", "last_name"), ("surname", "last_name"), ("name", "name"), ("course", "interest"),
    ("city", "city"), ("state", "state"), ("country", "country"), ("source", "source"), ("date", "lead_date"),
    ("remarks", "remark"), ("remark", "remark"), ("comments", "remark"), ("comment", "remark"), ("notes", "notes"), ("note", "notes"), ("locality", "area"), ("area", "area"),
    ("address", "area"), ("status", "stage"), ("stage", "stage"), ("amount", "value"), ("value", "value"),
]


def guess_field(header) -> str | None:
    cleaned = clean_header(header)
    if not cleaned:
        return None
    if cleaned in _EXACT:
        return _EXACT[cleaned]
    for word, field in _CONTAINS:
        if re.search(rf"\b{re.escape(word)}\b", cleaned):
            if field == "phone" and re.search(r"\b(alt|alternate|alternative|other|secondary|2|parent|guardian|father|mother)\b", cleaned):
                return "alternate_phones"
            return field
    return None


def auto_mapping(columns: list[str]) -> dict[str, str]:
    """{column index as text: field} for the columns whose header names a field; the leftmost column wins
    when two headers name the same field (the others stay unmapped and are shown as such)."""
    mapping, taken = {}, set()
    for index, header in enumerate(columns):
        field = guess_field(header)
        if field and field not in taken:
            mapping[str(index)] = field
            taken.add(field)
    if "name" in taken and ({"first_name", "last_name"} & taken):
        # A full name column wins over first/last name columns.
        mapping = {index: field for index, field in mapping.items() if field not in {"first_name", "last_name"}}
    return mapping


def header_score(row: list) -> int:
    return sum(1 for cell in row if guess_field(cell))


def column_label(index: int) -> str:
    """0 -> 'A', 27 -> 'AB': the spreadsheet letter of a column."""
    label = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        label = chr(65 + rest) + label
    return label


def column_names(columns: list[str]) -> list[str]:
    """What the mapping step and the error reports call each column."""
    return [str(header).strip() or f"Column {column_label(i)} (no header)" for i, header in enumerate(columns)]


def duplicate_headers(columns: list[str]) -> dict[int, int]:
    """{index of a repeated header: index of its first occurrence}."""
    first, repeats = {}, {}
    for index, header in enumerate(columns):
        key = clean_header(header)
        if not key:
            continue
        if key in first:
            repeats[index] = first[key]
        else:
            first[key] = index
    return repeats


def mapping_problems(mapping: dict[str, str]) -> list[str]:
    fields = list(mapping.values())
    problems = []
    if not IDENTITY_FIELDS & set(fields):
        problems.append(
            "No column is mapped to Phone or E-mail. Every lead needs one of them: map the column that holds it."
        )
    for field in set(fields):
        if fields.count(field) > 1:
            problems.append(f"{FIELDS[field][0]} is mapped to more than one column: choose one.")
    return problems
