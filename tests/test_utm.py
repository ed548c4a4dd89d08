"""UTM governance without a workspace: the taxonomy's config errors, each compliance rule with its fix
(bad input: spaces, unicode, encoded characters), the link builder, and properties of building."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketops.errors import ConfigError, ValidationFailed
from marketops.quality.utm_builder import UtmRefused, build_link, parse_utm, strip_utm
from marketops.quality.utm_compliance import check_utm, check_value
from marketops.quality.utm_taxonomy import UtmTaxonomy
from marketops.settings import load_config

TAX = UtmTaxonomy.model_validate({
    "sources": ["google", {"name": "facebook", "aliases": ["fb", "FB Ads"]}, "linkedin", "mailchimp"],
    "mediums": ["cpc", "paid_social", {"name": "email", "aliases": ["e-mail"]}],
    "pairs": {"mailchimp": ["email"]},
    "campaign_pattern": "{year}_{quarter}_{region}_{name}",
    "campaign_values": {"region": ["emea", "na"]},
})
GOOD = {"utm_source": "google", "utm_medium": "cpc", "utm_campaign": "2025_q1_emea_brand_search"}


def problems(**values):
    return {p.param: p for p in check_utm(TAX, {**GOOD, **values})}


# -- the taxonomy in marketops.yaml -------------------------------------------------------------------------

def _config(tmp_path, text: str):
    path = tmp_path / "marketops.yaml"
    path.write_text("name: Acme\n" + text, encoding="utf-8")
    return load_config(path)


def test_a_taxonomy_is_read_from_marketops_yaml_with_plain_names_and_aliases(tmp_path):
    cfg = _config(tmp_path, "utm:\n  sources: [google, {name: facebook, aliases: [fb]}]\n  mediums: [cpc]\n"
                            "  required: [source, medium]\n")
    assert cfg.utm.configured and cfg.utm.source_names == ["google", "facebook"]
    assert cfg.utm.required == ["utm_source", "utm_medium"]  # the utm_ prefix is optional
    assert not _config(tmp_path, "").utm.configured  # no utm: section, no taxonomy


@pytest.mark.parametrize(("yaml", "line", "words"), [
    ("utm:\n  sources: [google]\n  required: [utm_campain]\n", 4, "did you mean 'utm_campaign'"),
    ("utm:\n  sources: [google]\n  mediums: [cpc]\n  pairs: {gogle: [cpc]}\n", 2, "did you mean 'google'"),
    ("utm:\n  campaign_pattern: '^[a-z'\n", 2, "not valid"),
    ("utm:\n  sourcez: [google]\n", 3, "did you mean 'sources'"),
    ("utm:\n  sources: [{name: facebook, aliases: [fb]}, {name: fb}]\n", 2, "listed under both"),
    ("utm:\n  campaign_pattern: '{year}_{name}'\n  campaign_values: {region: [emea]}\n", 2,
     "not a placeholder"),
])
def test_a_wrong_taxonomy_names_the_file_the_line_and_the_fix(tmp_path, yaml, line, words):
    with pytest.raises(ConfigError) as e:
        _config(tmp_path, yaml)
    assert words in str(e.value)
    assert "marketops.yaml" in str(e.value) and e.value.location.line >= line


# -- each rule, with its fix --------------------------------------------------------------------------------

def test_a_compliant_set_has_no_problem():
    assert check_utm(TAX, GOOD) == []


def test_a_misspelt_medium_gets_did_you_mean():
    p = problems(utm_medium="emial")["utm_medium"]
    assert p.message == "utm_medium 'emial' is not an allowed medium; did you mean 'email'?"
    assert p.fix == "email"


def test_an_alias_is_flagged_with_its_allowed_value():
    assert problems(utm_source="FB Ads")["utm_source"].fix == "facebook"
    assert problems(utm_medium="E-mail", utm_source="mailchimp")["utm_medium"].fix == "email"
    # the built-in source aliases help too: adwords is Google
    assert problems(utm_source="adwords")["utm_source"].fix == "google"


def test_an_unknown_value_with_nothing_close_lists_the_allowed_ones():
    p = problems(utm_source="tiktok")["utm_source"]
    assert p.fix is None and "allowed: google, facebook, linkedin, mailchimp" in p.message


@pytest.mark.parametrize(("value", "codes", "fix"), [
    ("2025_q1_emea_Brand Search", {"spaces", "uppercase"}, "2025_q1_emea_brand_search"),
    ("2025_q1_emea_brand%20search", {"encoded"}, "2025_q1_emea_brand_search"),
    ("2025_q1_emea_brand+search", {"encoded"}, "2025_q1_emea_brand_search"),
    ("2025_q1_emea_été", {"unicode"}, "2025_q1_emea_ete"),
    ("2025_q1_emea_весна", {"unicode"}, "2025_q1_emea_vesna"),
    ("2025_q1_emea_brand!search", {"characters"}, "2025_q1_emea_brand_search"),
    (" 2025_q1_emea_brand ", {"spaces"}, "2025_q1_emea_brand"),
])
def test_bad_characters_are_flagged_with_the_clean_spelling(value, codes, fix):
    p = problems(utm_campaign=value)["utm_campaign"]
    assert codes <= set(p.codes) and p.fix == fix


def test_unicode_can_be_refused_instead_of_transliterated():
    tax = TAX.model_copy(update={"unicode": "refuse"})
    p = check_value(tax, "utm_campaign", "2025_q1_emea_été")
    assert p.fix is None and "ASCII" in p.message
    # and letters with no ASCII spelling are never guessed
    assert check_value(TAX, "utm_campaign", "2025_q1_emea_春").fix is None


def test_the_campaign_pattern_is_enforced_without_a_guess():
    p = problems(utm_campaign="spring_launch")["utm_campaign"]
    assert p.codes == ["pattern"] and p.fix is None
    assert "2025_q1_emea_name" in p.message  # an example of the template
    assert "utm_campaign" in problems(utm_campaign="2025_q5_emea_x")  # q5 is no quarter
    assert "utm_campaign" in problems(utm_campaign="2025_q1_apac_x")  # apac is not a region


def test_required_parameters_and_placeholders():
    p = check_utm(TAX, {"utm_source": "google", "utm_medium": "cpc"})
    assert [(x.param, x.codes) for x in p] == [("utm_campaign", ["missing"])]
    assert "placeholder" in problems(utm_campaign="(not set)")["utm_campaign"].codes
    assert problems(utm_campaign="{{campaign.name}}")["utm_campaign"].fix is None


def test_a_medium_not_paired_with_its_source():
    p = problems(utm_source="mailchimp", utm_medium="cpc")["utm_medium"]
    assert p.codes == ["pair"] and p.fix == "email" and "mailchimp" in p.message


def test_free_text_terms_may_have_spaces_but_not_capitals():
    assert "utm_term" not in problems(utm_term="marketing attribution software")
    assert problems(utm_term="Marketing Attribution")["utm_term"].fix == "marketing attribution"


# -- the builder --------------------------------------------------------------------------------------------

def test_the_builder_keeps_params_and_fragment_and_replaces_old_utms():
    link = build_link("https://acme.com/p?plan=pro&utm_source=old&UTM_Medium=x#faq", GOOD, TAX)
    assert link.final_url == ("https://acme.com/p?plan=pro&utm_source=google&utm_medium=cpc"
                              "&utm_campaign=2025_q1_emea_brand_search#faq")


def test_the_builder_refuses_with_every_problem_or_fixes_them():
    bad = {"source": "FB Ads", "medium": "Paid Social", "campaign": "2025_q1_emea_Spring Sale"}
    with pytest.raises(UtmRefused) as e:
        build_link("acme.com/pricing", bad, TAX)
    assert {p.param for p in e.value.problems} == {"utm_source", "utm_medium", "utm_campaign"}
    assert "--fix" in e.value.hint
    link = build_link("acme.com/pricing", bad, TAX, fix=True)
    assert link.params == {"utm_source": "facebook", "utm_medium": "paid_social",
                           "utm_campaign": "2025_q1_emea_spring_sale"}
    assert link.url == "https://acme.com/pricing"  # a scheme is added to a pasted address
    with pytest.raises(UtmRefused):  # a problem without a fix is never "fixed"
        build_link("acme.com", {**bad, "campaign": "spring"}, TAX, fix=True)


@pytest.mark.parametrize("url", ["", "not a url", "ftp://acme.com/x", "javascript:alert(1)", "https://"])
def test_an_address_that_is_not_a_web_page_is_refused(url):
    with pytest.raises(ValidationFailed, match="not a web address"):
        build_link(url, GOOD, TAX)


def test_without_a_taxonomy_the_builder_only_encodes():
    link = build_link("https://acme.com", {"source": "Google", "campaign": "Été sale & more"}, UtmTaxonomy())
    assert link.final_url == "https://acme.com?utm_source=Google&utm_campaign=%C3%89t%C3%A9%20sale%20%26%20more"
    assert parse_utm(link.final_url)["utm_campaign"] == "Été sale & more"


# -- properties ---------------------------------------------------------------------------------------------

_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20)
_word = st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True)
_urls = st.builds(lambda path, q, frag: f"https://acme.com/{path}" + (f"?{q}" if q else "") + (f"#{frag}" if frag else ""),
                  _word, st.sampled_from(["", "a=1", "a=1&b=x%20y", "utm_source=old&id=7"]),
                  st.sampled_from(["", "top", "x=1"]))


@settings(max_examples=150, deadline=None)
@given(url=_urls, source=_text, medium=_text, campaign=_text, content=_text)
def test_building_is_idempotent_and_parses_back_without_a_taxonomy(url, source, medium, campaign, content):
    values = {"source": source, "medium": medium, "campaign": campaign, "content": content}
    link = build_link(url, values, UtmTaxonomy())
    assert build_link(link.final_url, link.params, UtmTaxonomy()).final_url == link.final_url
    assert parse_utm(link.final_url) == link.params
    assert strip_utm(link.final_url) == strip_utm(url)  # other params and the fragment are untouched
    assert urlsplit(link.final_url).fragment == urlsplit(url).fragment


LOOSE = UtmTaxonomy.model_validate({"sources": ["google", "facebook", "linkedin"],
                                    "mediums": ["cpc", "paid_social", "email"]})


@settings(max_examples=150, deadline=None)
@given(url=_urls, source=st.sampled_from(["Google", "FB", "fb", "Linked In", "google", "G00gle"]),
       medium=st.sampled_from(["CPC", "Paid Social", "paid-social", "e-mail", "Email", "emial", "cpc"]),
       campaign=_text, content=_text)
def test_a_fixed_link_always_passes_the_check_and_rebuilds_to_itself(url, source, medium, campaign, content):
    values = {"source": source, "medium": medium, "campaign": campaign, "content": content}
    try:
        link = build_link(url, values, LOOSE, fix=True)
    except UtmRefused as e:
        assert any(p.fix is None for p in e.problems)  # refused only when a problem has no fix
        return
    assert check_utm(LOOSE, parse_utm(link.final_url)) == []
    assert build_link(link.final_url, parse_utm(link.final_url), LOOSE).final_url == link.final_url
