"""Web domains: the bare host of a company website, however the CRM stored it.

CRMs hold a company's site as ``https://www.Acme.com/``, ``www.acme.com``, ``acme.com/en`` or
``ACME.COM``: one company, four spellings, and joins on the domain (accounts to people by email
domain, for instance) miss. The clean value is the host alone, lowercased, without scheme, user,
port, path, query, trailing dot or leading ``www.``; an internationalised domain is stored in its
ASCII (punycode) form, as email domains are (:mod:`marketops.quality.normalise_email`), so the two
compare. Other subdomains are kept (``shop.acme.com`` is not ``acme.com``).

Rejected: placeholders, values with no dot (``localhost``, ``acme``), hosts that are IP addresses
and labels that are not valid host names.

Example:
    >>> [domain(x).value for x in ["https://www.Acme.com/en/", "WWW.ACME.COM", "acme.com:443"]]
    ['acme.com', 'acme.com', 'acme.com']
    >>> domain("bücher.de").value
    'xn--bcher-kva.de'
    >>> domain("n/a").reason
    'a placeholder, not a web domain'
"""

from __future__ import annotations

import re

import idna

from marketops.quality.normalise_base import (
    PLACEHOLDERS,
    Normalised,
    clean_text,
    normaliser,
    placeholder_key,
    reject,
)

_SCHEME_RE = re.compile(r"^[a-z][a-z0-9+.-]*://")
_LABEL_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_IPV4_RE = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")


@normaliser
def domain(value: object) -> Normalised:
    """Normalise a website or domain to its bare host (see the module docstring).

    >>> r = domain("http://user@Shop.Acme.co.uk:8080/path?q=1#top")
    >>> r.value, r.flags
    ('shop.acme.co.uk', ('url_reduced',))
    >>> domain("acme").reason
    'not a web domain: it has no dot'
    """
    text = clean_text(value).lower()
    if placeholder_key(text) in PLACEHOLDERS:
        return reject("a placeholder, not a web domain", "placeholder")
    flags: list[str] = []
    host = _SCHEME_RE.sub("", text)
    host = re.split(r"[/?#\s]", host, maxsplit=1)[0]
    host = host.rsplit("@", 1)[-1].split(":", 1)[0].strip(".")
    if host != text:
        flags.append("url_reduced")
    while host.startswith("www.") and host.count(".") > 1:
        host = host[len("www."):]
    if not host:
        return reject("not a web domain: no host in the value", "invalid_domain")
    if "." not in host:
        return reject("not a web domain: it has no dot", "invalid_domain")
    if _IPV4_RE.match(host):
        return reject("an IP address, not a web domain", "invalid_domain")
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError) as exc:
            return reject(f"not a valid international domain ({exc})", "invalid_domain")
        flags.append("idna_domain")
    labels = host.split(".")
    if not all(_LABEL_RE.match(label) for label in labels) or not any(ch.isalpha() for ch in labels[-1]):
        return reject(f"not a web domain: {host[:60]!r}", "invalid_domain")
    return Normalised(host, tuple(flags))
