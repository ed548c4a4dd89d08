"""Account resolution: which company each account record and each person belongs to.

Account records (CRM companies) are grouped by company:

1. the same **domain** (lowercased, without scheme, ``www.``, path or port) makes one account,
   unless it is a free-mail or disposable domain: ``gmail.com`` is not a company;
2. a record without a usable domain joins the domain account whose company name (``company_key``:
   the name without legal form) and country match, when exactly one does;
3. otherwise records with the same ``company_key`` and country make one account;
4. a record with neither domain nor name is an account of its own.

People get an account from their ``account_record_id`` (in the same source system), else the
domain of their work email (then of their ``website``), else their company name (into the one
matching domain account, else an account of that name and country). A person with a personal
address and no company gets none.

``account_id`` is ``"A"`` plus 16 hex characters of the MD5 of the account's key
(``domain:acme.com``, ``name:acme|US``, ``record:<record_key>``): the same company gets the same id
in every run and on every engine, and an account known first from people keeps its id when its
CRM record arrives.

Example:
    >>> import ibis
    >>> accounts = ibis.memtable({"record_key": ["hubspot:7"], "_source_system": ["hubspot"],
    ...     "record_id": ["7"], "name": ["Acme"], "domain": ["https://www.Acme.com/"], "country": ["US"]})
    >>> people = ibis.memtable({"record_key": ["hubspot:1", "salesforce:2", "salesforce:3"],
    ...     "_source_system": ["hubspot", "salesforce", "salesforce"], "account_record_id": ["7", None, None],
    ...     "email": ["ann@acme.com", "bob@acme.com", "cy@gmail.com"], "company": [None, None, None]})
    >>> res = resolve_accounts(accounts, people)
    >>> rows = res.person_accounts.order_by("record_key").to_pyarrow().to_pylist()
    >>> [(r["account_id"] == account_id("domain:acme.com"), r["account_match"]) for r in rows]
    [(True, 'account_record_id'), (True, 'email_domain'), (False, None)]
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import ibis

from marketops.quality.normalise_email import DISPOSABLE_DOMAINS, PLACEHOLDER_DOMAINS
from marketops.quality.survivorship import (
    ACCOUNT_COLUMNS,
    ACCOUNT_FOLLOWS,
    SurvivorshipConfig,
    follows,
    survive,
)
from marketops.schema import ENTITIES

#: Mailbox providers whose domain says nothing about the employer. Regional variants of the big
#: providers (yahoo.co.uk, hotmail.it...) are caught by :data:`FREE_MAIL_PATTERN` too.
FREE_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "yahoo.com", "ymail.com", "rocketmail.com", "hotmail.com", "outlook.com",
    "live.com", "msn.com", "passport.com", "aol.com", "aim.com", "icloud.com", "me.com", "mac.com",
    "proton.me", "protonmail.com", "pm.me", "tutanota.com", "tuta.io", "fastmail.com", "hey.com",
    "zoho.com", "zohomail.com", "mail.com", "email.com", "gmx.com", "gmx.net", "gmx.de", "gmx.at", "gmx.ch",
    "web.de", "t-online.de", "freenet.de", "posteo.de", "mailbox.org", "yandex.ru", "yandex.com", "ya.ru",
    "mail.ru", "bk.ru", "list.ru", "inbox.ru", "rambler.ru", "ukr.net", "i.ua", "libero.it", "virgilio.it",
    "tiscali.it", "alice.it", "tim.it", "fastwebnet.it", "tin.it", "email.it", "inwind.it", "iol.it",
    "orange.fr", "wanadoo.fr", "free.fr", "sfr.fr", "laposte.net", "neuf.fr", "bbox.fr", "telefonica.net",
    "movistar.es", "terra.es", "ono.com", "btinternet.com", "sky.com", "virginmedia.com", "talktalk.net",
    "ntlworld.com", "comcast.net", "verizon.net", "att.net", "sbcglobal.net", "bellsouth.net", "cox.net",
    "charter.net", "earthlink.net", "optonline.net", "shaw.ca", "rogers.com", "sympatico.ca",
    "bigpond.com", "optusnet.com.au", "xtra.co.nz", "terra.com.br", "uol.com.br", "bol.com.br",
    "seznam.cz", "centrum.cz", "wp.pl", "o2.pl", "interia.pl", "onet.pl", "abv.bg", "qq.com", "163.com",
    "126.com", "sina.com", "naver.com", "daum.net", "hanmail.net", "rediffmail.com", "yahoo.co.in",
})
#: Regional spellings of the largest providers: yahoo.co.uk, hotmail.it, outlook.es, live.fr...
FREE_MAIL_PATTERN = (r"^(yahoo|ymail|hotmail|outlook|live|msn|aol|gmx|icloud|yandex|libero)"
                     r"\.(com?\.)?[a-z]{2,3}$")
_NOT_COMPANY_DOMAINS = sorted(FREE_MAIL_DOMAINS | DISPOSABLE_DOMAINS | PLACEHOLDER_DOMAINS)


@dataclass(frozen=True)
class AccountResolution:
    """The accounts found: per account record and per person record (both Ibis tables).

    ``account_map``: ``record_key``, ``source_system``, ``record_id``, ``account_id``,
    ``account_key`` and ``account_match`` (``domain``, ``company_name`` or ``record``).
    ``person_accounts``: ``record_key``, ``account_id`` and ``account_match``
    (``account_record_id``, ``email_domain``, ``website`` or ``company_name``); people without
    an account have NULLs there.
    """

    account_map: ibis.Table
    person_accounts: ibis.Table


def account_id(key: str) -> str:
    """The stable id of the account with key ``key``, computed in Python (for tests and look-ups).

    >>> account_id("domain:acme.com")
    'Adc1817d40e912edf'
    """
    return "A" + hashlib.md5(key.encode()).hexdigest()[:16]


def clean_domain(v: ibis.Value) -> ibis.StringValue:
    """A web domain from a URL, a bare domain or an email address; NULL when there is none.

    >>> import ibis
    >>> t = ibis.memtable({"v": ["HTTPS://www.Acme.com/a?x=1", "ann@acme.co.uk", "acme.com:80", "n/a", None]})
    >>> t.select(d=clean_domain(t.v)).d.to_pyarrow().to_pylist()
    ['acme.com', 'acme.co.uk', 'acme.com', None, None]
    """
    d = v.cast("string").lower()
    d = d.re_replace(r"^[a-z][a-z0-9+.-]*://", "").re_replace(r"^[^/]*@", "")
    d = d.re_replace(r"[/?#:].*$", "").re_replace(r"^www[0-9]*\.", "").re_replace(r"\.+$", "")
    return ibis.cases((d.re_search(r"^[^\s.@]+(\.[^\s.@]+)+$"), d), else_=ibis.null("string"))


def company_domain(v: ibis.Value) -> ibis.StringValue:
    """:func:`clean_domain`, but NULL for free-mail, disposable and placeholder domains.

    >>> import ibis
    >>> t = ibis.memtable({"v": ["jo@gmail.com", "jo@hotmail.co.uk", "jo@mailinator.com", "jo@acme.io"]})
    >>> t.select(d=company_domain(t.v)).d.to_pyarrow().to_pylist()
    [None, None, None, 'acme.io']
    """
    d = clean_domain(v)
    free = d.isin(_NOT_COMPANY_DOMAINS) | d.re_search(FREE_MAIL_PATTERN)
    return ibis.cases((free, ibis.null("string")), else_=d)


def _key_id(key: ibis.StringValue) -> ibis.StringValue:
    return ibis.literal("A").concat(key.hexdigest("md5").substr(0, 16))


def _name_key(t: ibis.Table, name_column: str) -> ibis.StringValue:
    """``company_key`` from the normalise step; without it, a rough key from the name (case and
    punctuation only: legal forms stay, so normalise first for good account matching)."""
    if "company_key" in t.columns:
        return t.company_key.nullif("")
    if name_column not in t.columns:
        return ibis.null("string")
    rough = t[name_column].cast("string").lower().re_replace(r"[^\p{L}\p{N}]+", " ")
    return rough.re_replace(r"^ +| +$", "").nullif("")


def _text(t: ibis.Table, column: str) -> ibis.StringValue:
    return t[column].cast("string").nullif("") if column in t.columns else ibis.null("string")


def _email_domain(people: ibis.Table) -> ibis.StringValue:
    """The company domain of a person's email: NULL for personal and disposable addresses."""
    d = company_domain(people.email_domain if "email_domain" in people.columns else _text(people, "email"))
    if "email_disposable" in people.columns:  # the normaliser also knows disposable subdomains
        d = ibis.cases((ibis.coalesce(people.email_disposable, False), ibis.null("string")), else_=d)
    return d


def _name_account_key(t: ibis.Table) -> ibis.StringValue:
    return "name:" + t._ck + "|" + t._country.fill_null("")


def _account_by_name(subjects: ibis.Table, index: ibis.Table) -> ibis.Table:
    """``_ad_rk -> _adopted``: the key of the one account in ``index`` whose name and country match,
    for subjects without a domain of their own.

    Countries match when equal or when either side does not know it. A name matching two accounts
    (two companies called Acme) adopts neither.
    """
    # a view: joined back to ``subjects``, Ibis would otherwise take the subjects' _rk for ours
    subjects = subjects.view()
    s = subjects.filter(subjects._dom.isnull() & subjects._ck.notnull())
    j = s.inner_join(index, s._ck == index._ix_ck).filter(
        lambda x: x._ix_country.isnull() | x._country.isnull() | (x._ix_country == x._country))
    return (j.group_by(_ad_rk=j._rk).aggregate(_n=j._ix_key.nunique(), _adopted=j._ix_key.min())
            .filter(lambda x: x._n == 1).drop("_n"))


def resolve_accounts(accounts: ibis.Table | None, people: ibis.Table) -> AccountResolution:
    """Group account records into accounts and give each person record its account (see the
    module docstring for the rules). ``accounts`` may be None when no account export was loaded:
    people are then grouped by their own domains and company names."""
    p = people.select(
        _rk=people.record_key, _sys=people._source_system, _acct_rec=_text(people, "account_record_id"),
        _email_dom=_email_domain(people), _web_dom=company_domain(_text(people, "website")),
        _ck=_name_key(people, "company"), _country=_text(people, "country"))
    p = p.mutate(_dom=ibis.coalesce(p._email_dom, p._web_dom))
    a = None
    if accounts is not None:
        a = accounts.select(
            _rk=accounts.record_key, _sys=accounts._source_system, _rid=_text(accounts, "record_id"),
            _dom=company_domain(_text(accounts, "domain")), _ck=_name_key(accounts, "name"),
            _country=_text(accounts, "country"))
    # company name -> domain account, learnt from account records and from people whose work
    # email shows where they work
    index = ibis.union(*[t.filter(t._dom.notnull() & t._ck.notnull())
                         .select(_ix_ck=t._ck, _ix_country=t._country, _ix_key="domain:" + t._dom)
                         for t in (p, a) if t is not None], distinct=True)
    if a is None:
        return AccountResolution(_no_accounts(p), _person_accounts(p, None, index))
    account_map = _account_map(a, index)
    public = account_map.drop("_ck", "_country")
    return AccountResolution(public, _person_accounts(p, account_map, index))


def _account_map(a: ibis.Table, index: ibis.Table) -> ibis.Table:
    adopted = _account_by_name(a, index)
    a = a.left_join(adopted, a._rk == adopted._ad_rk).select(a, adopted._adopted)
    key = ibis.cases((a._dom.notnull(), "domain:" + a._dom), (a._adopted.notnull(), a._adopted),
                     (a._ck.notnull(), _name_account_key(a)), else_="record:" + a._rk)
    match = ibis.cases((a._dom.notnull(), "domain"), (a._ck.notnull(), "company_name"), else_="record")
    return a.select(record_key=a._rk, source_system=a._sys, record_id=a._rid, account_id=_key_id(key),
                    account_key=key, account_match=match, _ck=a._ck, _country=a._country)


def _no_accounts(t: ibis.Table) -> ibis.Table:
    """An empty account map on ``t``'s engine."""
    none = ibis.null("string")
    return t.select(record_key=none, source_system=none, record_id=none, account_id=none, account_key=none,
                    account_match=none).filter(ibis.literal(False))


def _person_accounts(p: ibis.Table, account_map: ibis.Table | None, index: ibis.Table) -> ibis.Table:
    if account_map is None:
        p = p.mutate(_m_account=ibis.null("string"))
    else:
        m = account_map.filter(account_map.record_id.notnull())
        by_record = (m.group_by(_m_sys=m.source_system, _m_rid=m.record_id)
                     .aggregate(_m_account=m.account_id.min()))
        p = p.left_join(by_record, (p._sys == by_record._m_sys) & (p._acct_rec == by_record._m_rid)).select(
            p, by_record._m_account)
        # people also find account records known only by name ("Acme", US) when their name says so
        named = account_map.filter((account_map.account_match == "company_name") & account_map._ck.notnull())
        index = ibis.union(index, named.select(_ix_ck=named._ck, _ix_country=named._country,
                                               _ix_key=named.account_key), distinct=True)
    adopted = _account_by_name(p, index)
    p = p.left_join(adopted, p._rk == adopted._ad_rk).select(p, adopted._adopted)
    account = ibis.coalesce(p._m_account, _key_id("domain:" + p._dom), _key_id(p._adopted),
                            _key_id(_name_account_key(p)))
    match = ibis.cases((p._m_account.notnull(), "account_record_id"),
                       (p._email_dom.notnull(), "email_domain"), (p._web_dom.notnull(), "website"),
                       (p._ck.notnull(), "company_name"), else_=ibis.null("string"))
    return p.select(record_key=p._rk, account_id=account, account_match=match)


def with_account_ids(people: ibis.Table, resolution: AccountResolution) -> ibis.Table:
    """``people`` with ``account_id`` and ``account_match`` added (replaced if present)."""
    people = people.drop(*[c for c in ("account_id", "account_match") if c in people.columns])
    pa_ = resolution.person_accounts.view()  # a view: it is derived from ``people`` itself
    joined = people.left_join(pa_, people.record_key == pa_.record_key)
    return joined.select(people, pa_.account_id, pa_.account_match)


def golden_accounts(accounts: ibis.Table | None, people: ibis.Table, resolution: AccountResolution,
                    config: SurvivorshipConfig | None = None) -> ibis.Table:
    """One row per ``account_id`` with surviving account values (the same rules as people).

    Accounts with CRM records take their values from those records; accounts known only from
    people take name (their ``company``), domain, company_key, country and city from the people's
    records. ``currency`` comes from the record whose ``annual_revenue`` won, ``company_key`` with
    ``name``. Output:
    ``account_id``, the columns of :data:`~marketops.quality.survivorship.ACCOUNT_COLUMNS`,
    ``created_at``, ``updated_at``, ``source_records``, ``sources`` and ``contributors``.
    """
    types = {c.name: ibis.dtype(c.storage_type) for c in ENTITIES["accounts"].columns}
    if accounts is not None:  # keep the warehouse's own types (a money column's precision)
        types |= {c: accounts[c].type().copy(nullable=True) for c in accounts.columns if c in types}
    types |= {"company_key": ibis.dtype("string"), "created_at": ibis.dtype("timestamp"),
              "updated_at": ibis.dtype("timestamp")}
    parts = []
    if accounts is not None:
        m = resolution.account_map.select(_rk="record_key", _acct="account_id")
        a = accounts.inner_join(m, accounts.record_key == m._rk)
        values = {c: a[c] for c in (*ACCOUNT_COLUMNS, "created_at", "updated_at") if c in a.columns}
        parts.append(_account_records(a, a._acct, types, {
            **values, "domain": company_domain(_text(a, "domain")), "company_key": _name_key(a, "name")}))
    pa_ = resolution.person_accounts
    m = resolution.account_map
    only = pa_.filter(pa_.account_id.notnull() & ~pa_.account_id.isin(m.account_id))
    only = only.select(_rk="record_key", _acct="account_id").view()
    q = people.inner_join(only, people.record_key == only._rk)
    # a person's owner is not the account's owner: only what a person's record can tell
    values = {"name": _text(q, "company"), "company_key": _name_key(q, "company"),
              "domain": ibis.coalesce(_email_domain(q), company_domain(_text(q, "website"))),
              **{c: q[c] for c in ("country", "city", "created_at", "updated_at") if c in q.columns}}
    parts.append(_account_records(q, q._acct, types, values))
    records = ibis.union(*parts) if len(parts) > 1 else parts[0]
    return survive(records, group="account_id", columns=list(ACCOUNT_COLUMNS),
                   config=config or SurvivorshipConfig(), earliest=["created_at"], latest=["updated_at"],
                   follow=follows(ACCOUNT_FOLLOWS, ACCOUNT_COLUMNS))


def _account_records(t: ibis.Table, account: ibis.Value, types: dict,
                     values: dict[str, ibis.Value]) -> ibis.Table:
    """Rows shaped for :func:`survive`: the same columns and types whatever ``t`` holds."""
    cols = {c: values.get(c, ibis.null()).cast(types[c])
            for c in (*ACCOUNT_COLUMNS, "created_at", "updated_at")}
    return t.select(
        account_id=account.cast("string"), **cols, record_key=t.record_key.cast("string"),
        _source_system=t._source_system.cast("string"), _load_id=_text(t, "_load_id"),
        _source_row=t._source_row.cast("int64") if "_source_row" in t.columns else ibis.null("int64"))
