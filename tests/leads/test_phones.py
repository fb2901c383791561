import pytest

from crm.leads.phones import InvalidPhone, normalise_phone


@pytest.mark.parametrize(
    "written, expected",
    [
        ("+91 98765-43210", "+919876543210"),
        ("098765 43210", "+919876543210"),
        ("919876543210", "+919876543210"),
        ("9876543210", "+919876543210"),
        ("9876543210.0", "+919876543210"),
        ("+91 (98765) 43210", "+919876543210"),
        ("0091 98765 43210", "+919876543210"),
        (" 98765\u00a043210 ", "+919876543210"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+971 50 123 4567", "+971501234567"),
        ("", None),
        (None, None),
        ("nan", None),
    ],
)
def test_accepted_ways_of_writing_a_number(written, expected):
    assert normalise_phone(written) == expected


@pytest.mark.parametrize(
    "written, message_part",
    [
        ("9.87654E+09", "scientific notation"),
        ("98765abcde", "not a phone number"),
        ("call me", "not a phone number"),
        ("12345", "not a valid phone number"),
        ("98", "not a phone number"),
        ("+91 55555 55555", "not a valid phone number"),
    ],
)
def test_bad_numbers_are_refused_with_a_message(written, message_part):
    with pytest.raises(InvalidPhone) as error:
        normalise_phone(written)
    assert message_part in str(error.value)
    assert written.strip() in str(error.value)
