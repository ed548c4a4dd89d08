"""Email addresses: one spelling per mailbox, with what a marketer needs to know about it.

Choices, so that the same mailbox always gets the same key:

* the whole address is lowercased (RFC 5321 lets the local part be case-sensitive, but no
  mainstream provider uses that and CRMs de-duplicate case-insensitively);
* an internationalised domain is stored in its ASCII (punycode) form, ``bücher.de`` ->
  ``xn--bcher-kva.de``: that is what mail servers, ad platforms' hashed-audience uploads and most
  CRMs compare on; a non-ASCII *local* part is kept in Unicode (NFC);
* ``"Jane Doe <jane@x.com>"`` and ``mailto:`` are reduced to the address (flag
  ``display_name_removed``); a cell holding several addresses keeps the first (``multiple_addresses``);
* syntax is checked offline with ``email-validator`` (``check_deliverability=False``: no DNS);
  the common plain ASCII address (``jane.doe+x@acme-corp.co.uk``) takes a shortcut that accepts
  exactly what email-validator accepts unchanged (see :func:`_plain_address`), because the full
  check dominates the cost of cleaning a large CRM export;
* role mailboxes (``info@``, ``sales@``...) and disposable domains are kept but flagged
  (``role_address``, ``disposable``): they are real addresses, just not a person's;
* placeholders (``n/a``, ``test@test.com``, anything at ``example.com``) are rejected.

Example:
    >>> r = email("  John.Smith@Bücher.DE ")
    >>> r.value, r.flags
    ('john.smith@xn--bcher-kva.de', ('idna_domain',))
    >>> email("INFO@acme.com").flags
    ('role_address',)
    >>> email("test@test.com").reason
    'a placeholder, not a real address'
"""

from __future__ import annotations

import re

import email_validator
from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import DNS_LABEL_LENGTH_LIMIT, EMAIL_MAX_LENGTH

from marketops.quality.normalise_base import (
    PLACEHOLDERS,
    Normalised,
    clean_text,
    normaliser,
    placeholder_key,
    reject,
)

ROLE_LOCAL_PARTS = frozenset({
    "info", "sales", "admin", "administrator", "noreply", "no-reply", "no_reply", "donotreply",
    "do-not-reply", "do_not_reply", "support", "contact", "contacts", "hello", "hi", "office",
    "marketing", "billing", "accounts", "accounting", "finance", "hr", "jobs", "careers", "team",
    "webmaster", "postmaster", "hostmaster", "abuse", "help", "helpdesk", "enquiries", "inquiries",
    "press", "media", "pr", "privacy", "security", "service", "services", "newsletter", "mail",
    "email", "orders", "bookings", "reception", "legal", "compliance", "it", "ops", "root",
    # Italian, Spanish, French, German, Russian (transliterated) role mailboxes.
    "amministrazione", "ufficio", "segreteria", "commerciale", "vendite", "assistenza", "ventas",
    "contacto", "soporte", "administracion", "facturacion", "bonjour", "contact-fr", "kontakt",
    "vertrieb", "buchhaltung", "zakaz", "otdel", "prodazhi",
})

# A small, deliberately conservative list; workspaces needing more should feed a maintained list
# into the flags later. Subdomains match too (``x.mailinator.com``).
DISPOSABLE_DOMAINS = frozenset({
    "mailinator.com", "mailinator.net", "guerrillamail.com", "guerrillamail.net", "guerrillamail.org",
    "guerrillamailblock.com", "sharklasers.com", "grr.la", "10minutemail.com", "10minutemail.net",
    "yopmail.com", "yopmail.fr", "yopmail.net", "tempmail.com", "tempmail.net", "temp-mail.org",
    "temp-mail.io", "tempmailo.com", "tempr.email", "trashmail.com", "trashmail.de", "getnada.com",
    "nada.email", "dispostable.com", "maildrop.cc", "throwawaymail.com", "fakeinbox.com",
    "mintemail.com", "mohmal.com", "emailondeck.com", "burnermail.io", "spamgourmet.com",
    "mailnesia.com", "discard.email", "mailcatch.com", "getairmail.com", "moakt.com", "mytemp.email",
})

# Domains reserved for documentation (RFC 2606) or typed by people dodging a form.
PLACEHOLDER_DOMAINS = frozenset({
    "example.com", "example.org", "example.net", "test.com", "test.it", "email.com.invalid",
    "domain.com", "yourdomain.com", "yourcompany.com", "company.com", "noemail.com", "no-email.com",
    "nomail.com", "none.com", "asdf.com", "fake.com",
})
PLACEHOLDER_LOCAL_PARTS = frozenset({
    "test", "asdf", "example", "none", "noemail", "no-email", "nomail", "na", "n/a", "null", "fake",
    "email", "xxx", "x", "a", "abc", "qwerty", "foo", "nobody",
})

# A subset of email-validator's rules (rfc_constants.DOT_ATOM_TEXT for the local part,
# HOSTNAME_LABEL for the domain labels, a TLD ending in a letter), lowercase only because the
# address is lowercased first.
_PLAIN_RE = re.compile(
    r"[a-z0-9_+-]+(?:\.[a-z0-9_+-]+)*@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z](?:[a-z0-9-]*[a-z])?")
_ANGLE_RE = re.compile(r"<([^<>]*@[^<>]*)>")
_SEPARATORS_RE = re.compile(r"[;,\s]+")


@normaliser
def email(value: object) -> Normalised:
    """Normalise one email address (see the module docstring for the choices).

    >>> email("Jane Doe <Jane@Example.co.uk>").value
    'jane@example.co.uk'
    >>> email("jane.acme.com").reason
    'invalid syntax: An email address must have an @-sign.'
    >>> email("bob@mailinator.com").flags
    ('disposable',)
    """
    text = clean_text(value)
    flags: list[str] = []
    if placeholder_key(text) in PLACEHOLDERS:
        return reject("a placeholder, not a real address", "placeholder")

    angle = _ANGLE_RE.search(text)
    if angle:
        text, flags = angle.group(1).strip(), flags + ["display_name_removed"]
    if text.casefold().startswith("mailto:"):
        text = text[len("mailto:"):].strip()
    if text.count("@") > 1:
        candidates = [part for part in _SEPARATORS_RE.split(text) if "@" in part]
        if len(candidates) > 1:
            text, flags = candidates[0], flags + ["multiple_addresses"]
    text = text.strip().strip(".;,").lower()

    plain = _plain_address(text)
    if plain:
        local, domain = plain
    else:
        try:
            checked = validate_email(text, check_deliverability=False, allow_smtputf8=True)
        except EmailNotValidError as exc:
            return reject(f"invalid syntax: {exc}", "invalid_syntax", *flags)
        local = checked.local_part.lower()
        domain = checked.ascii_domain.lower()
        if domain != checked.domain.lower():
            flags.append("idna_domain")
    base_local = local.split("+", 1)[0]
    first_label = domain.split(".", 1)[0]
    if (domain in PLACEHOLDER_DOMAINS or base_local in PLACEHOLDER_LOCAL_PARTS and first_label == base_local
            or base_local in PLACEHOLDER_LOCAL_PARTS and domain.startswith(("example.", "test."))):
        return reject("a placeholder, not a real address", "placeholder", *flags)

    if base_local != local:
        flags.append("subaddress")
    if base_local in ROLE_LOCAL_PARTS:
        flags.append("role_address")
    labels = domain.split(".")
    if any(".".join(labels[i:]) in DISPOSABLE_DOMAINS for i in range(len(labels) - 1)):
        flags.append("disposable")
    return Normalised(f"{local}@{domain}", tuple(flags))


def _plain_address(text: str) -> tuple[str, str] | None:
    """(local part, domain) of a lowercase ASCII address that email-validator accepts unchanged.

    None means "ask email-validator". The shortcut answers only where every check of
    ``validate_email(text, check_deliverability=False)`` is known to pass and to change nothing:
    a dot-atom local part of letters, digits, ``_ + -``; a domain of at least two valid host
    labels (1 to 63 letters, digits and inner hyphens, so no dot or hyphen errors), no ``--``
    anywhere (which rules out R-LDH and Punycode labels), a top-level label ending in a letter and
    not a special-use name (``.test``, ``.local``...); at most 254 characters in all. ASCII text is
    unchanged by NFC and by UTS-46 mapping of lowercase host names, so email-validator would return
    the same local part and domain. ``tests/test_normalise.py`` checks the agreement on random
    addresses.

    >>> _plain_address("jane.doe+crm@acme-corp.co.uk")
    ('jane.doe+crm', 'acme-corp.co.uk')
    >>> _plain_address("jane@localhost.test") is None, _plain_address("jane@xn--bcher-kva.de") is None
    (True, True)
    """
    if len(text) > EMAIL_MAX_LENGTH or not _PLAIN_RE.fullmatch(text):
        return None
    local, _, domain = text.partition("@")
    if "--" in domain:
        return None
    labels = domain.split(".")
    if any(len(label) > DNS_LABEL_LENGTH_LIMIT for label in labels):
        return None
    if any(domain == d or domain.endswith("." + d) for d in email_validator.SPECIAL_USE_DOMAIN_NAMES):
        return None
    return local, domain
