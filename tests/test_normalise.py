"""Normalisers: concrete CRM examples, and properties that must hold for any text at all."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketops.errors import ConfigError
from marketops.quality.normalise import (
    NORMALISERS,
    company,
    company_key,
    country,
    domain,
    email,
    job_title,
    normalise_column,
    normalise_values,
    person_name,
    phone,
    split_full_name,
    utm_source,
    utm_value,
)

# Arbitrary text plus strings shaped like the real thing, so the properties also exercise the
# accepting paths (hypothesis' st.text() rarely produces a valid email or phone on its own).
messy = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    st.from_regex(r"[A-Za-zÀ-ÿА-я' .-]{1,20} [A-Za-zÀ-ÿА-я' .-]{1,20}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9._+-]{1,12}@[a-zA-Zü0-9-]{1,10}\.(com|it|de|co\.uk)", fullmatch=True),
    st.from_regex(r"\+?[0-9 ()-]{4,20}", fullmatch=True),
    st.from_regex(r"(https?://)?(www\.)?[A-Za-zü0-9-]{1,10}\.(com|it|co\.uk)(/[a-z]{0,5})?", fullmatch=True),
    st.sampled_from(["n/a", "-", "", "  ", "(not set)", "Italia", "ИВАН петров", "fb", "CMO", "ACME Inc."]),
)

SIMPLE = {
    "email": email, "phone": phone, "phone_it": lambda v: phone(v, default_region="IT"),
    "phone_no_region": lambda v: phone(v, default_region=None), "person_name": person_name,
    "company": company, "country": country, "job_title": job_title, "utm_value": utm_value,
    "utm_source": utm_source,
    "utm_source_ws": lambda v: utm_source(v, aliases={"google": "google_ads", "newsletter": "email"}),
    "domain": domain,
}


@pytest.mark.parametrize("name", sorted(SIMPLE))
@settings(max_examples=300, deadline=None)
@given(raw=messy)
def test_every_normaliser_is_total_and_idempotent(name, raw):
    func = SIMPLE[name]
    first = func(raw)
    assert (first.value is None) == (first.reason is not None), first
    assert "error" not in first.flags, first.reason  # the never-raise net was not needed
    assert func(first.value).value == first.value


@settings(max_examples=200, deadline=None)
@given(raw=messy)
def test_company_key_is_stable_and_split_never_raises(raw):
    key = company_key(raw)
    assert key is None or company_key(key) == key
    first, last = split_full_name(raw)
    for part in (first, last):
        assert part is None or person_name(part).value == part


def test_every_kind_is_tested():
    assert set(NORMALISERS) <= {name.removesuffix("_it").removesuffix("_no_region").removesuffix("_ws")
                                for name in SIMPLE}


@pytest.mark.parametrize("raw", [None, float("nan"), "", "   ", "x" * 5000, "\x00\x01", "😀😀"])
@pytest.mark.parametrize("name", sorted(SIMPLE))
def test_unusable_values_are_rejected_with_a_reason(name, raw):
    result = SIMPLE[name](raw)
    if result.value is None:
        assert result.reason


# --- email ------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("  John.Smith@ACME.com ", "john.smith@acme.com"),
    ("Jane Doe <jane@acme.it>", "jane@acme.it"),
    ("mailto:bob@acme.com", "bob@acme.com"),
    ("a@acme.com; b@acme.com", "a@acme.com"),
    ("ivan@bücher.de", "ivan@xn--bcher-kva.de"),
    ("ivan@xn--bcher-kva.de", "ivan@xn--bcher-kva.de"),
])
def test_email_clean_values(raw, expected):
    assert email(raw).value == expected


@pytest.mark.parametrize("raw, flag", [
    ("info@acme.com", "role_address"), ("Sales@acme.com", "role_address"),
    ("noreply@acme.com", "role_address"), ("admin@acme.com", "role_address"),
    ("x@mailinator.com", "disposable"), ("x@guerrillamail.com", "disposable"),
    ("x@10minutemail.com", "disposable"), ("x@yopmail.com", "disposable"), ("x@tempmail.com", "disposable"),
    ("x@inbox.mailinator.com", "disposable"), ("jo+crm@acme.com", "subaddress"),
])
def test_email_flags_keep_the_value(raw, flag):
    result = email(raw)
    assert result.value is not None and flag in result.flags


@pytest.mark.parametrize("raw", ["n/a", "test", "-", "none", "asdf@asdf.com", "test@test.com",
                                 "example@example.com", "TEST@TEST.COM", "john@example.com"])
def test_email_placeholders(raw):
    result = email(raw)
    assert result.value is None and "placeholder" in result.flags and "placeholder" in result.reason


@pytest.mark.parametrize("raw", ["john.smith", "john@", "@acme.com", "john smith@acme.com", "a@b"])
def test_email_invalid_syntax(raw):
    result = email(raw)
    assert result.value is None and result.flags[-1:] == ("invalid_syntax",) and result.reason


# Shaped like addresses, with the edge cases of the shortcut: hyphens next to dots, "--", numeric
# and special-use top-level domains, long labels, uppercase, dots at the ends.
address_like = st.from_regex(
    r"[a-zA-Z0-9._+-]{1,70}@([a-zA-Z0-9-]{1,70}\.){1,3}(com|it|co|xn--p1ai|test|local|localhost|123|c0m|a-b|b-)",
    fullmatch=True)


@settings(max_examples=2000, deadline=None)
@given(raw=address_like)
def test_plain_address_shortcut_agrees_with_email_validator(raw):
    from email_validator import EmailNotValidError, validate_email

    from marketops.quality.normalise_email import _plain_address

    text = raw.lower()
    plain = _plain_address(text)
    if plain is None:
        return
    try:
        checked = validate_email(text, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:
        raise AssertionError(f"the shortcut accepted {text!r}, email-validator says: {exc}") from None
    assert plain == (checked.local_part, checked.ascii_domain) and checked.domain == checked.ascii_domain


# --- phone ------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", ["0039 02 1234 5678", "+39 02 1234 5678", "(02) 1234-5678", "+390212345678"])
def test_phone_italian_forms(raw):
    assert phone(raw, default_region="IT").value == "+390212345678"


def test_phone_default_region_is_us_and_numbers_are_accepted():
    assert phone("(212) 555-0100").value == "+12125550100"
    assert phone(2125550100).value == "+12125550100"


@pytest.mark.parametrize("raw", ["000000", "1111111111", "+39 000 000 0000", "12", "123456789",
                                 "+1 212 555 0100 0100 0100 0100", "call me", "+999 1234567"])
def test_phone_absurd(raw):
    result = phone(raw, default_region="IT")
    assert result.value is None and "absurd_phone" in result.flags and result.reason


@settings(max_examples=500, deadline=None)
@given(raw=messy, region=st.sampled_from([None, "US", "IT", "GB"]))
def test_phone_settling_shortcut_gives_the_same_value_and_rejection(raw, region):
    from marketops.quality.normalise_phone import _phone_value

    full, settle = phone.__wrapped__(raw, default_region=region), _phone_value(raw, default_region=region)
    assert (full.value, full.reason) == (settle.value, settle.reason)


@pytest.mark.parametrize("raw", ["000000", "12", "call me", "+999 1234567", "-"])
def test_phone_absurd_without_region_is_not_blamed_on_the_region(raw):
    assert "no_region" not in phone(raw, default_region=None).flags


def test_phone_without_country_code_or_region_says_so():
    result = phone("02 1234 5678", default_region=None)
    assert result.value is None and result.flags == ("no_region",) and "region" in result.reason
    assert phone("+39 02 1234 5678", default_region=None).value == "+390212345678"
    assert phone("0039 02 1234 5678", default_region=None).value == "+390212345678"


def test_phone_00_prefix_where_the_region_dials_another_one():
    # The US dials 011 abroad, but European-made CRMs write US numbers as 001...
    assert phone("001 212 555 0100", default_region="US").value == "+12125550100"
    assert phone("011 39 02 1234 5678", default_region="US").value == "+390212345678"


# --- names ------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("JOHN smith", "John Smith"), ("o'neil", "O'Neil"), ("mcdonald", "McDonald"),
    ("jan VAN DER berg", "Jan van der Berg"), ("van der Berg", "van der Berg"),
    ("ИВАН петров", "Иван Петров"), ("jean-luc PICARD", "Jean-Luc Picard"), ("JOSÉ ÁLVAREZ", "José Álvarez"),
    ("DeShawn", "DeShawn"), ("  maria   de la  cruz ", "Maria de la Cruz"), ("李小龍", "李小龍"),
])
def test_person_name(raw, expected):
    assert person_name(raw).value == expected


@pytest.mark.parametrize("raw", ["n/a", "-", "first name", "123", "jo@acme.com"])
def test_person_name_rejects(raw):
    result = person_name(raw)
    assert result.value is None and result.reason


@pytest.mark.parametrize("raw, expected", [
    ("Smith, John", ("John", "Smith")), ("John Smith", ("John", "Smith")),
    ("SMITH, JOHN", ("John", "Smith")), ("Mary Ann Smith", ("Mary Ann", "Smith")),
    ("Jan van der Berg", ("Jan", "van der Berg")), ("Mr. John Smith", ("John", "Smith")),
    ("Иван Петров", ("Иван", "Петров")), ("Cher", ("Cher", None)), ("n/a", (None, None)),
])
def test_split_full_name(raw, expected):
    assert tuple(split_full_name(raw)) == expected


# --- company ----------------------------------------------------------------------------------

def test_company_key_from_the_issue():
    assert company_key("ACME Inc.") == company_key("Acme, Inc") == "acme"


@pytest.mark.parametrize("raw, display, key", [
    ("Acme LLC", "Acme", "acme"), ("Acme Ltd", "Acme", "acme"), ("Siemens GmbH", "Siemens", "siemens"),
    ("Fiat S.p.A.", "Fiat", "fiat"), ("Rossi S.r.l.", "Rossi", "rossi"), ("Zara SA", "Zara", "zara"),
    ("Nestlé S.A.", "Nestlé", "nestle"), ("Telefónica SL", "Telefónica", "telefonica"),
    ("Allianz AG", "Allianz", "allianz"), ("Philips BV", "Philips", "philips"),
    ("ООО «Ромашка»", "Ромашка", "ромашка"), ("OOO Romashka", "Romashka", "romashka"),
    ("АО Газпром", "Газпром", "газпром"), ("IBM", "IBM", "ibm"), ("AG", "AG", "ag"),
    ("Procter & Gamble Co.", "Procter & Gamble", "procter and gamble"),
    ("Serenity Spa", "Serenity Spa", "serenity spa"),
])
def test_company(raw, display, key):
    result = company(raw)
    assert (result.value, result.key) == (display, key)


def test_company_placeholder():
    assert company("self-employed").value is None and company_key("n/a") is None


# --- country ----------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, code", [
    ("Italia", "IT"), ("Italie", "IT"), ("Italy", "IT"), ("ita", "IT"), ("it", "IT"),
    ("Deutschland", "DE"), ("Alemania", "DE"), ("Germany", "DE"), ("Россия", "RU"), ("Russia", "RU"),
    ("España", "ES"), ("espana", "ES"), ("Stati Uniti", "US"), ("USA", "US"), ("U.S.", "US"),
    ("UK", "GB"), ("United Kingdom", "GB"), ("Regno Unito", "GB"), ("Германия", "DE"), ("840", "US"),
])
def test_country(raw, code):
    assert country(raw).value == code


@pytest.mark.parametrize("raw", ["Atlantis", "n/a", "Europe", "", "Other"])
def test_country_unknown(raw):
    result = country(raw)
    assert result.value is None and result.reason


# --- web domains -------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("acme.com", "acme.com"), ("https://www.Acme.com/", "acme.com"), ("WWW.ACME.COM", "acme.com"),
    ("http://acme.co.uk/en?x=1#top", "acme.co.uk"), ("acme.com:8080", "acme.com"), ("shop.acme.com", "shop.acme.com"),
    ("www.www.acme.com", "acme.com"), ("bücher.de", "xn--bcher-kva.de"), ("acme.com.", "acme.com"),
])
def test_domain(raw, expected):
    assert domain(raw).value == expected


@pytest.mark.parametrize("raw", ["n/a", "acme", "192.168.0.1", "-acme-.com", "http://", "acme.123"])
def test_domain_rejects(raw):
    result = domain(raw)
    assert result.value is None and result.reason


# --- job titles -------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, seniority, function", [
    ("CMO", "c_level", "marketing"), ("Chief Executive Officer", "c_level", "executive"),
    ("CFO", "c_level", "finance"), ("VP of Sales", "vp", "sales"), ("SVP Engineering", "vp", "engineering"),
    ("Head of Growth", "director", "marketing"), ("Director de Ventas", "director", "sales"),
    ("Responsabile Marketing", "manager", "marketing"), ("Маркетолог", "individual_contributor", "marketing"),
    ("Software Engineer", "individual_contributor", "engineering"), ("HR Manager", "manager", "hr"),
    ("IT Manager", "manager", "it"), ("Operations Manager", "manager", "operations"),
    ("Директор по продажам", "director", "sales"), ("Executive Assistant to the CEO", "individual_contributor", "executive"),
    ("Gerente de Marketing", "manager", "marketing"), ("Chef", "unknown", "other"),
])
def test_job_title(raw, seniority, function):
    result = job_title(raw)
    assert (result.seniority, result.function) == (seniority, function)


# --- UTM --------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    (" Spring Sale ", "spring_sale"), ("spring%20sale", "spring_sale"), ("Spring+Sale", "spring_sale"),
    ("spring-sale", "spring-sale"), ("(direct)", "(direct)"),
])
def test_utm_value(raw, expected):
    assert utm_value(raw).value == expected


@pytest.mark.parametrize("raw", ["(not set)", "{{campaign.name}}", "{campaignid}", "", "null"])
def test_utm_value_rejects(raw):
    assert utm_value(raw).value is None and utm_value(raw).reason


@pytest.mark.parametrize("raw, expected", [
    ("fb", "facebook"), ("facebook", "facebook"), ("FB Ads", "facebook"), ("facebook.com", "facebook"),
    ("m.facebook.com", "facebook"), ("ig", "instagram"), ("google", "google"), ("Google Ads", "google"),
    ("adwords", "google"), ("li", "linkedin"), ("lnkd", "linkedin"), ("bing", "bing"),
    ("Microsoft Ads", "bing"), ("google.co.uk", "google"), ("https://www.linkedin.com/feed/", "linkedin"),
    ("Partner Blog", "partner_blog"),
])
def test_utm_source_builtin_aliases(raw, expected):
    assert utm_source(raw).value == expected


def test_utm_source_workspace_aliases_override_and_extend():
    aliases = {"Google": "Google Ads", "NL": "email", "newsletter": "email"}
    assert utm_source("google", aliases).value == "google_ads"
    assert utm_source("adwords", aliases).value == "google_ads"  # built-in aliases follow the rename
    assert utm_source("google_ads", aliases).value == "google_ads"
    assert utm_source("nl", aliases).value == "email"
    assert utm_source("fb", aliases).value == "facebook"


def test_utm_source_alias_loop_is_a_config_error():
    with pytest.raises(ConfigError, match="loop"):
        utm_source("a", {"a": "b", "b": "a"})


# --- the vectorised helper --------------------------------------------------------------------

def test_normalise_column_maps_distinct_values_once(monkeypatch):
    con = duckdb.connect()
    con.execute("CREATE TABLE crm(email VARCHAR, phone BIGINT, title VARCHAR, company VARCHAR)")
    rows = [("John@Acme.com", 2125550100, "CMO", "ACME Inc."), ("john@acme.com ", 2125550100, "CMO", "Acme, Inc"),
            ("n/a", 0, None, None)] * 500
    con.executemany("INSERT INTO crm VALUES (?, ?, ?, ?)", rows)

    calls = []
    import marketops.quality.normalise as facade
    original = facade.NORMALISERS["email"]
    monkeypatch.setitem(facade.NORMALISERS, "email",
                        (lambda v, **kw: calls.append(v) or original[0](v, **kw), original[1]))
    name = normalise_column(con, "crm", "email", "email")
    assert len(calls) == 3  # distinct values only, not 1,500 rows
    assert con.execute(f"SELECT count(*) FROM {name}").fetchone() == (3,)
    joined = con.execute(f"""SELECT m.value, count(*) FROM crm JOIN {name} m ON crm.email IS NOT DISTINCT FROM m.raw
                             GROUP BY 1 ORDER BY 1 NULLS LAST""").fetchall()
    assert joined == [("john@acme.com", 1000), (None, 500)]

    phones = normalise_column(con, "crm", "phone", "phone", into="phone_map")
    assert phones == "phone_map"
    assert con.execute("SELECT raw, value FROM phone_map ORDER BY raw").fetchall() == [
        (0, None), (2125550100, "+12125550100")]
    assert con.execute("SELECT typeof(raw) FROM phone_map LIMIT 1").fetchone() == ("BIGINT",)

    titles = normalise_column(con, "crm", "title", "job_title")
    assert con.execute(f"SELECT seniority, function FROM {titles} WHERE raw = 'CMO'").fetchone() == (
        "c_level", "marketing")
    companies = normalise_column(con, "crm", "company", "company")
    assert con.execute(f"SELECT DISTINCT key FROM {companies} WHERE raw IS NOT NULL").fetchall() == [("acme",)]
    reason = con.execute(f"SELECT reason, flags FROM {name} WHERE raw = 'n/a'").fetchone()
    assert reason == ("a placeholder, not a real address", ["placeholder"])


def test_normalise_values_one_row_per_distinct_text_with_the_kind_extras():
    table = normalise_values(["ACME Inc.", "Acme, Inc", "ACME Inc.", None, "n/a"], "company")
    assert table.column_names == ["raw_text", "value", "flags", "reason", "key"]
    rows = table.to_pylist()
    assert [r["raw_text"] for r in rows] == ["ACME Inc.", "Acme, Inc", None, "n/a"]
    assert [r["key"] for r in rows] == ["acme", "acme", None, None]
    assert rows[3]["reason"] == "not a company name" and rows[3]["flags"] == ["placeholder"]
    with pytest.raises(ConfigError, match="option"):
        normalise_values(["x"], "country", default_region="IT")


def test_normalise_column_options_and_errors():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA raw")
    con.execute("""CREATE TABLE raw."visits; drop" ("utm source" VARCHAR)""")
    con.execute("""INSERT INTO raw."visits; drop" VALUES ('fb'), ('Newsletter'), ('fb')""")
    name = normalise_column(con, 'raw.visits; drop', "utm source", "utm_source", aliases={"newsletter": "email"})
    assert con.execute(f'SELECT raw, value FROM "{name}" ORDER BY raw').fetchall() == [
        ("Newsletter", "email"), ("fb", "facebook")]
    with pytest.raises(ConfigError, match="did you mean 'phone'"):
        normalise_column(con, "raw.visits; drop", "utm source", "phnoe")
    with pytest.raises(ConfigError, match="option"):
        normalise_column(con, "raw.visits; drop", "utm source", "email", default_region="IT")
