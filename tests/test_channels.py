"""Channel grouping: GA4's default rules, workspace rules, and the agreement of its two faces."""

from __future__ import annotations

import itertools
import json

import ibis
import pytest
from typer.testing import CliRunner

from marketops.cli.channels import app
from marketops.quality.channels import CHANNELS, DEFAULT_RULES, ChannelRule, channel_expression, explain
from marketops.settings import WorkspaceConfig

GA4_EXAMPLES = [
    # source, medium, campaign, click ids, expected
    ("google", "cpc", None, (), "Paid Search"),
    ("google", "organic", None, (), "Organic Search"),
    ("bing", "ppc", None, (), "Paid Search"),
    ("duckduckgo", None, None, (), "Organic Search"),
    ("facebook", "cpc", None, (), "Paid Social"),
    ("linkedin", "paid_social", None, (), "Paid Social"),
    ("instagram", "retargeting", None, (), "Paid Social"),
    ("m.facebook.com", "referral", None, (), "Organic Social"),
    ("t.co", "referral", None, (), "Organic Social"),
    ("newsletter", "social", None, (), "Organic Social"),
    ("(direct)", "(none)", None, (), "Direct"),
    ("(direct)", "(not set)", None, (), "Direct"),
    (None, None, None, (), "Direct"),
    ("newsletter", "email", None, (), "Email"),
    ("e-mail", "newsletter", None, (), "Email"),
    ("youtube", "cpc", None, (), "Paid Video"),
    ("youtube.com", "referral", None, (), "Organic Video"),
    ("acme", "video", None, (), "Organic Video"),
    ("partner", "affiliate", None, (), "Affiliates"),
    ("anything", "sms", None, (), "SMS"),
    ("sms", "text", None, (), "SMS"),
    ("unknown", "unknown", None, (), "Unassigned"),
    ("google", "cpc", "brand_cross-network_q3", (), "Cross-network"),
    ("google", "cpc", "summer_shopping", (), "Paid Shopping"),
    ("amazon", "cpc", None, (), "Paid Shopping"),
    ("amazon", "referral", None, (), "Organic Shopping"),
    ("acme", "referral", "shop-launch", (), "Organic Shopping"),
    ("acme", "referral", "workshop", (), "Referral"),  # GA4's regex: "workshop" is not a shop
    ("gdn", "display", None, (), "Display"),
    ("taboola", "cpm", None, (), "Display"),
    ("spotify", "audio", None, (), "Audio"),
    ("podcast", "cpc", None, (), "Paid Other"),
    ("blog.example.com", "referral", None, (), "Referral"),
    ("app", "web-push", None, (), "Mobile Push Notifications"),
    ("firebase", "notification", None, (), "Mobile Push Notifications"),
    (None, None, None, ("gclid",), "Paid Search"),
    (None, None, None, ("wbraid",), "Paid Search"),
    ("youtube", None, None, ("gclid",), "Paid Video"),
    (None, None, "pmax_shopping", ("gclid",), "Paid Shopping"),
    (None, None, None, ("msclkid",), "Paid Search"),
    ("(direct)", "(none)", None, ("gclid",), "Paid Search"),
    (None, None, None, ("fbclid",), "Organic Social"),  # fbclid alone is no evidence of an ad
    ("facebook.com", "referral", None, ("fbclid",), "Organic Social"),
    ("meta", "paid", None, ("fbclid",), "Paid Social"),
    ("meta", "paid", None, (), "Paid Other"),
]


@pytest.mark.parametrize("source, medium, campaign, click_ids, expected", GA4_EXAMPLES)
def test_ga4_default_channel_group(source, medium, campaign, click_ids, expected):
    assert explain(source, medium, campaign, click_ids=click_ids).channel == expected


def test_matching_ignores_case():
    assert explain("Google", "CPC").channel == "Paid Search"
    assert explain("M.Facebook.COM", "Referral").channel == "Organic Social"
    assert explain("acme", "cpc", "BLACK-FRIDAY Shop").channel == "Paid Shopping"


def test_explanation_names_the_rule():
    e = explain("facebook", "cpc")
    assert e.rule == "GA4 Paid Social: source is a social site and medium matches ^(.*cp.*|ppc|retargeting|paid.*)$"
    assert e.origin == "GA4"
    assert explain("nope", "nope").rule == "no rule matched"


def test_workspace_rules_win_in_order():
    rules = [ChannelRule(channel="Partners", source="^partner_", description="co-marketing"),
             ChannelRule(channel="Brand", source="google", medium="^cpc$", campaign="Brand"),
             ChannelRule(channel="Never", source="^partner_")]
    assert explain("partner_acme", "cpc", rules=rules).channel == "Partners"
    e = explain("google", "cpc", "brand_eu", rules=rules)
    assert (e.channel, e.origin) == ("Brand", "workspace")
    assert "campaign matches Brand" in e.rule
    assert explain("google", "cpc", "generic", rules=rules).channel == "Paid Search"
    assert "co-marketing" in explain("Partner_x", None, rules=rules).rule


def test_given_channel_is_kept():
    assert explain("google", "cpc", given_channel="Trade shows").channel == "Trade shows"
    assert explain("google", "cpc", given_channel="").channel == "Paid Search"


def test_click_ids_as_mapping_and_unknown_names():
    assert explain(None, None, click_ids={"gclid": "abc", "fbclid": None}).channel == "Paid Search"
    assert explain(None, None, click_ids={"gclid": ""}).channel == "Direct"
    with pytest.raises(ValueError, match="did you mean 'gclid'"):
        explain(None, None, click_ids=["glcid"])


def test_channel_rule_validation():
    with pytest.raises(ValueError, match="at least one of source, medium, campaign"):
        ChannelRule(channel="X")
    with pytest.raises(ValueError, match="not a valid regular expression"):
        ChannelRule(channel="X", source="(")
    cfg = WorkspaceConfig.model_validate({"channels": [{"channel": "Partners", "medium": "^partner$"}]})
    assert cfg.channels[0].medium == "^partner$"


def test_bad_channel_rule_in_yaml_names_file_and_line(tmp_path):
    from marketops.errors import ConfigError
    from marketops.settings import load_config

    p = tmp_path / "marketops.yaml"
    p.write_text("name: x\nchannels:\n  - channel: Partners\n    source: ^partner_\n  - channel: Bad\n    medium: '('\n")
    with pytest.raises(ConfigError, match=r"marketops.yaml:6: channels.1.medium: '\(' is not a valid regular"):
        load_config(p)


def test_every_default_rule_gives_a_ga4_channel():
    assert {r.channel for r in DEFAULT_RULES} | {"Unassigned"} == set(CHANNELS)


# -- the two faces agree ----------------------------------------------------------------------------

SOURCES = [None, "", "(direct)", "google", "Google", "bing", "m.facebook.com", "facebook", "lnkd.in", "youtube",
           "amazon", "newsletter", "email", "sms", "firebase", "partner_acme", "unknown", "x.com", "notgoogle"]
MEDIUMS = [None, "", "(none)", "(not set)", "cpc", "CPC", "paid_social", "organic", "referral", "email", "social",
           "display", "affiliate", "audio", "sms", "push", "video", "unknown", "partner"]
CAMPAIGNS = [None, "summer_shopping", "cross-network_brand", "workshop"]
CLICKS = [{}, {"gclid": "a"}, {"fbclid": "b"}, {"msclkid": "c"}, {"gclid": "a", "fbclid": "b"}]
GIVEN = [None, "Events"]
RULES = [ChannelRule(channel="Partners", source="^partner_"),
         ChannelRule(channel="Brand search", source="google", campaign="Brand"),  # (?i) on every engine
         ChannelRule(channel="Lifecycle", medium="^e-?mail$", campaign="onboarding")]


def _combos():
    for i, (s, m) in enumerate(itertools.product(SOURCES, MEDIUMS)):
        # cycle the rarer inputs instead of a full product: every value still meets every source and medium
        yield s, m, CAMPAIGNS[i % len(CAMPAIGNS)], CLICKS[i % len(CLICKS)], GIVEN[(i // 7) % len(GIVEN)]
    for c, k in itertools.product(CAMPAIGNS, CLICKS):
        yield "youtube", None, c, k, None
        yield None, None, c, k, None


def _frame():
    rows = list(_combos())
    return rows, {
        "source": [r[0] for r in rows], "medium": [r[1] for r in rows], "campaign": [r[2] for r in rows],
        "gclid": [r[3].get("gclid") for r in rows], "fbclid": [r[3].get("fbclid") for r in rows],
        "msclkid": [r[3].get("msclkid") for r in rows], "channel": [r[4] for r in rows],
        "row": list(range(len(rows))),
    }


def _expected(rows, rules):
    return [explain(s, m, c, click_ids=k, given_channel=g, rules=rules).channel for s, m, c, k, g in rows]


def _run(con, rules, t=None):
    rows, data = _frame()
    t = ibis.memtable(data) if t is None else t
    out = con.execute(t.mutate(grouped=channel_expression(t, rules)).order_by("row"))
    return rows, out["grouped"].tolist()


@pytest.mark.parametrize("rules", [[], RULES], ids=["defaults", "workspace-rules"])
def test_expression_and_explain_agree_on_duckdb(rules):
    rows, got = _run(ibis.duckdb.connect(), rules)
    assert len(rows) > 300
    assert got == _expected(rows, rules)
    assert len(set(got)) > 12  # the combos reach most channels


def test_expression_treats_missing_columns_as_empty():
    t = ibis.memtable({"medium": ["cpc", "email", None]})
    got = ibis.duckdb.connect().execute(t.mutate(ch=channel_expression(t)))["ch"].tolist()
    assert got == [explain(None, "cpc").channel, "Email", "Direct"]


@pytest.mark.spark
def test_expression_and_explain_agree_on_spark():
    pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[1]").appName("channels-test")
               .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "1").getOrCreate())
    try:
        # a Spark DataFrame of our own: ibis.memtable on Spark turns None into the string 'NaN'
        _, data = _frame()
        columns = list(data)
        df = session.createDataFrame(list(zip(*data.values())),
                                     ", ".join(f"{c} {'long' if c == 'row' else 'string'}" for c in columns))
        df.createOrReplaceTempView("channel_combos")
        con = ibis.pyspark.connect(session)
        rows, got = _run(con, RULES, con.table("channel_combos"))
        assert got == _expected(rows, RULES)
    finally:
        session.stop()


# -- CLI ---------------------------------------------------------------------------------------------

def test_cli_explain_json_and_workspace_rules(tmp_path, monkeypatch):
    runner = CliRunner()
    monkeypatch.delenv("MARKETOPS_WORKSPACE", raising=False)
    monkeypatch.chdir(tmp_path)  # outside any workspace GA4's defaults answer
    r = runner.invoke(app, ["explain", "--source", "facebook", "--medium", "cpc", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["channel"] == "Paid Social"
    r = runner.invoke(app, ["explain", "--source", "facebook", "-w", str(tmp_path / "nowhere")])
    assert r.exit_code == 1 and "not a marketops workspace" in r.output
    (tmp_path / "marketops.yaml").write_text(
        "name: Acme\nchannels:\n  - channel: Partners\n    source: ^partner_\n    description: co-marketing\n")
    r = runner.invoke(app, ["explain", "--source", "partner_x", "--medium", "cpc", "-w", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert "Partners" in r.stdout and "co-marketing" in r.stdout
    r = runner.invoke(app, ["explain", "--source", "", "--medium", "", "--gclid", "abc", "--json",
                            "-w", str(tmp_path)])
    assert json.loads(r.stdout)["channel"] == "Paid Search"
