"""Phone numbers to E.164 (``+390212345678``) with Google's libphonenumber rules.

A number written without its country code is read in ``default_region`` (ISO alpha-2, the
workspace's home country); the region's own international prefix is understood (``011`` in the
US), and ``00`` too when the number does not fit the region otherwise (``001 212 555 0100``).
With ``default_region=None`` such a number is rejected with the flag ``no_region`` (it may be
perfectly real: nobody said which country it is from), except that a leading ``00`` is then read
as the international prefix.
Extensions are dropped from the value (E.164 has none) and flagged ``extension_dropped``.

Rejected (``value=None``, flag ``absurd_phone``): numbers that cannot exist anywhere (too short,
too long), a run of one digit (``000000``, ``1111111111``) and counting sequences (``123456789``).
A number that has a possible length but falls outside any assigned range of its country is kept
and flagged ``unassigned_range``: the metadata lags new ranges, and a sales rep may still reach it.

Example:
    >>> phone("0039 02 1234 5678", default_region="IT").value
    '+390212345678'
    >>> phone("(02) 1234-5678", default_region="IT").value
    '+390212345678'
    >>> phone("000000").reason
    'not a real phone number: all digits are the same'
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat

from marketops.quality.normalise_base import (
    PLACEHOLDERS,
    Normalised,
    clean_text,
    normaliser,
    placeholder_key,
    reject,
)

# The shortest national numbers in libphonenumber's metadata (Niue, Saint Helena) have 4 digits.
_MIN_NATIONAL_DIGITS = 4
_SEQUENCES = ("0123456789", "1234567890", "9876543210", "0987654321")


def _read(value: object, default_region: str | None) -> PhoneNumber | Normalised:
    """The phone number in ``value`` read in ``default_region``, or the rejection saying why not."""
    text = clean_text(value)
    if placeholder_key(text) in PLACEHOLDERS:
        return reject("a placeholder, not a phone number", "placeholder")
    digits = "".join(ch for ch in text if ch.isdigit())
    if not digits:
        return reject("no digits in the value", "absurd_phone")
    if len(set(digits)) == 1:
        return reject("not a real phone number: all digits are the same", "absurd_phone")
    region = (default_region or "ZZ").upper()
    if region == "ZZ" and text.startswith("00"):
        text = "+" + text[2:]  # 00 is the international prefix almost everywhere (ITU-T E.164)
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE and region == "ZZ" \
                and not text.lstrip().startswith("+"):
            if len(digits) < _MIN_NATIONAL_DIGITS:
                return reject("not a real phone number: too short", "absurd_phone")
            # Not the number's fault: nobody said which country it is from.
            return reject("written without a country code, and no region was given to read it in", "no_region")
        return reject(f"not a phone number: {_parse_reason(exc)}", "absurd_phone")

    if text.startswith("00") and region != "ZZ" and not phonenumbers.is_possible_number(number):
        # "001 212 555 0100" on a US record: 00 is the international prefix almost everywhere,
        # though not in the region the number is read in (the US dials 011).
        try:
            number = phonenumbers.parse("+" + text[2:], "ZZ")
        except NumberParseException:
            pass

    national = str(number.national_number)
    if len(set(national)) == 1:
        return reject("not a real phone number: all digits are the same", "absurd_phone")
    if any(national in seq or seq in national and len(national) <= len(seq) + 1 for seq in _SEQUENCES):
        return reject("not a real phone number: a counting sequence", "absurd_phone")
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason != phonenumbers.ValidationResult.IS_POSSIBLE:
        return reject(f"not a real phone number: {_possible_reason(reason)}", "absurd_phone")
    return number


def _phone_value(value: object, default_region: str | None = "US") -> Normalised:
    """:func:`phone` without its flags: the same value or rejection, without the costly validity
    check (which only sets a flag); used to check that a clean value settles."""
    number = _read(value, default_region)
    if isinstance(number, Normalised):
        return number
    return Normalised(phonenumbers.format_number(number, PhoneNumberFormat.E164))


@normaliser(settle=_phone_value)
def phone(value: object, default_region: str | None = "US") -> Normalised:
    """Normalise one phone number to E.164; ``default_region`` reads numbers without ``+``.

    >>> phone("+1 (212) 555-0100 ext. 42").value, phone("+1 (212) 555-0100 ext. 42").flags
    ('+12125550100', ('extension_dropped',))
    >>> phone("12").flags
    ('absurd_phone',)
    """
    number = _read(value, default_region)
    if isinstance(number, Normalised):
        return number
    flags = []
    if number.extension:
        flags.append("extension_dropped")
    if not phonenumbers.is_valid_number(number):
        flags.append("unassigned_range")
    return Normalised(phonenumbers.format_number(number, PhoneNumberFormat.E164), tuple(flags))


def _parse_reason(exc: NumberParseException) -> str:
    return {
        NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
        NumberParseException.NOT_A_NUMBER: "it does not look like a phone number",
        NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
        NumberParseException.TOO_SHORT_NSN: "too short",
        NumberParseException.TOO_LONG: "too long",
    }.get(exc.error_type, "it cannot be parsed")


def _possible_reason(reason: int) -> str:
    results = phonenumbers.ValidationResult
    return {
        results.INVALID_COUNTRY_CODE: "unknown country code",
        results.TOO_SHORT: "too short",
        results.TOO_LONG: "too long",
        results.INVALID_LENGTH: "no country uses this length",
        results.IS_POSSIBLE_LOCAL_ONLY: "a local number without its area code",
    }.get(reason, "not a possible number")
