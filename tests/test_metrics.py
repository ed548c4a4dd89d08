"""The metrics layer: definitions as YAML, exact sums and ratios by dimension and period."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal as D

import openpyxl
import pyarrow as pa
import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from marketops.errors import ConfigError, NotFound
from marketops.metrics import load_catalog, query_metrics
from marketops.metrics.definitions import parse_metrics
from marketops.metrics.query import metric_expression

d = dt.date
MONEY = pa.decimal128(18, 4)


def ad_spend(rows: list[tuple]) -> pa.Table:
    """rows: (date, platform, campaign, impressions, clicks, cost, currency)."""
    cols = list(zip(*rows, strict=True))
    return pa.table({
        "date": pa.array(cols[0], pa.date32()), "platform": pa.array(cols[1], pa.string()),
        "campaign": pa.array(cols[2], pa.string()), "impressions": pa.array(cols[3], pa.int64()),
        "clicks": pa.array(cols[4], pa.int64()), "cost": pa.array([D(str(c)) for c in cols[5]], MONEY),
        "currency": pa.array(cols[6], pa.string())})


def publish(ws, **tables: pa.Table) -> None:
    for name, table in tables.items():
        ws.engine.write(f"{name}__t1", table)
    ws.engine.publish({name: f"{name}__t1" for name in tables}, "t1")


SPEND = ad_spend([
    (d(2024, 1, 3), "google_ads", "brand", 100, 10, "12.34", "EUR"),
    (d(2024, 1, 20), "google_ads", "brand", 1000, 10, "7.66", "EUR"),
    (d(2024, 1, 8), "meta_ads", "retarget", 500, 5, "5.005", "EUR"),
    (d(2024, 2, 1), "google_ads", "brand", 200, 4, "3.00", "EUR"),
    (d(2023, 1, 15), "google_ads", "brand", 50, 2, "1.00", "EUR"),
])


def test_sums_by_channel_and_month_are_exact(ws):
    publish(ws, ad_spend=SPEND)
    out = query_metrics(ws.engine, ["clicks", "spend"], by=["channel"], grain="month",
                        start=d(2024, 1, 1), end=d(2024, 2, 29))
    assert out.column_names == ["period", "channel", "clicks", "spend"]
    assert out.to_pylist() == [
        {"period": d(2024, 1, 1), "channel": "Paid Search", "clicks": 20, "spend": D("20.00")},
        {"period": d(2024, 1, 1), "channel": "Paid Social", "clicks": 5, "spend": D("5.01")},
        {"period": d(2024, 2, 1), "channel": "Paid Search", "clicks": 4, "spend": D("3.00")},
    ]
    assert out.schema.field("spend").type == pa.decimal128(20, 2)


def test_ratios_are_computed_from_sums_not_averaged(ws):
    publish(ws, ad_spend=SPEND)
    out = query_metrics(ws.engine, ["ctr", "cpc", "cpm"], by=["platform"], grain="month",
                        start=d(2024, 1, 1), end=d(2024, 1, 31)).to_pylist()
    google = next(r for r in out if r["platform"] == "google_ads")
    # 20 clicks / 1100 impressions, not the mean of 10 % and 1 %
    assert google["ctr"] == pytest.approx(20 / 1100 * 100)
    assert google["cpc"] == D("1.00")  # 20.00 / 20
    assert google["cpm"] == D("18.18")  # 20.00 / 1100 * 1000 = 18.1818...


@pytest.mark.parametrize(("grain", "periods"), [
    ("day", [d(2024, 1, 3), d(2024, 1, 8), d(2024, 1, 20), d(2024, 2, 1)]),
    ("week", [d(2024, 1, 1), d(2024, 1, 8), d(2024, 1, 15), d(2024, 1, 29)]),
    ("month", [d(2024, 1, 1), d(2024, 2, 1)]),
    ("quarter", [d(2024, 1, 1)]),
])
def test_grains_place_rows_in_their_period(ws, grain, periods):
    publish(ws, ad_spend=SPEND)
    out = query_metrics(ws.engine, ["clicks"], grain=grain, start=d(2024, 1, 1), end=d(2024, 3, 31))
    assert out.column("period").to_pylist() == periods
    assert sum(out.column("clicks").to_pylist()) == 29


def test_change_against_previous_period_and_last_year(ws):
    publish(ws, ad_spend=SPEND)
    out = query_metrics(ws.engine, ["clicks"], grain="month", start=d(2024, 1, 1), end=d(2024, 2, 29),
                        compare=["previous", "year"]).to_pylist()
    jan, feb = out
    assert (jan["clicks"], jan["clicks_prev"], jan["clicks_change"]) == (25, 0, None)
    assert (jan["clicks_last_year"], jan["clicks_yoy_change"]) == (2, pytest.approx(11.5))
    assert (feb["clicks"], feb["clicks_prev"], feb["clicks_change"]) == (4, 25, pytest.approx(-0.84))


def test_a_channel_that_stopped_still_shows_its_drop(ws):
    publish(ws, ad_spend=SPEND)
    out = query_metrics(ws.engine, ["clicks"], by=["platform"], grain="month", start=d(2024, 2, 1),
                        end=d(2024, 2, 29), compare=["previous"]).to_pylist()
    meta = next(r for r in out if r["platform"] == "meta_ads")
    assert (meta["clicks"], meta["clicks_prev"], meta["clicks_change"]) == (0, 5, -1.0)


def test_money_is_converted_with_the_rate_of_its_day(ws):
    spend = ad_spend([
        (d(2024, 1, 2), "google_ads", "a", 1, 1, "10.00", "USD"),
        (d(2024, 1, 5), "google_ads", "a", 1, 1, "10.00", "USD"),
        (d(2024, 1, 5), "google_ads", "a", 1, 1, "0.10", "EUR"),
    ])
    publish(ws, ad_spend=spend)
    rates = pa.table({"date": [d(2024, 1, 1), d(2024, 1, 4)], "currency": ["USD", "USD"],
                      "rate": ["0.9", "0.92345"]})
    out = query_metrics(ws.engine, ["spend"], grain="month", reporting_currency="EUR", rates=rates)
    # 9.00 + 9.2345 + 0.10 = 18.3345 -> rounded once, at the end
    assert out.column("spend").to_pylist() == [D("18.33")]
    with pytest.raises(NotFound, match="no exchange rate USD -> EUR on or before 2024-01-02"):
        query_metrics(ws.engine, ["spend"], rates=rates.slice(1))


def test_funnel_and_deal_metrics(ws):
    ts = dt.datetime
    stages = pa.table({"person_id": ["P1", "P1", "P2", "P3", "P2"],
                       "stage": ["lead", "MQL", "Lead", "lead", "customer"],
                       "entered_at": [ts(2024, 1, 2), ts(2024, 1, 9), ts(2024, 1, 3), ts(2024, 2, 3), ts(2024, 2, 9)]})
    deals = pa.table({"record_key": ["a", "b", "c"], "amount": pa.array([D(100), D("50.5"), D(70)], MONEY),
                      "currency": ["EUR"] * 3, "is_won": [True, False, True], "is_closed": [True, True, True],
                      "created_at": [ts(2024, 1, 1), ts(2024, 1, 1), ts(2024, 1, 11, 12)],
                      "closed_at": [ts(2024, 2, 1), ts(2024, 2, 5), ts(2024, 2, 1)]})
    publish(ws, lifecycle_stages=stages, opportunities=deals, ad_spend=SPEND)
    out = query_metrics(ws.engine, ["leads", "mqls", "customers", "revenue", "win_rate", "sales_cycle_days",
                                    "cac", "roas", "roi"], grain="month", start=d(2024, 1, 1),
                        end=d(2024, 2, 29)).to_pylist()
    jan, feb = out
    assert (jan["leads"], jan["mqls"], feb["leads"], feb["customers"]) == (2, 1, 1, 1)
    assert feb["revenue"] == D("170.00")
    assert feb["win_rate"] == pytest.approx(200 / 3)
    assert feb["sales_cycle_days"] == pytest.approx((31 + 20.5) / 2)
    assert feb["cac"] == D("3.00")  # 3.00 spend / 1 customer
    assert feb["roas"] == pytest.approx(170 / 3)
    assert feb["roi"] == pytest.approx((170 - 3) / 3 * 100)
    assert jan["cac"] is None  # no customers: undefined, not zero


def test_email_rates(ws):
    emails = pa.table({"name": ["n1", "n2"], "platform": ["mailchimp"] * 2,
                       "sent_at": [dt.datetime(2024, 3, 1), dt.datetime(2024, 3, 15)],
                       "delivered": [1000, 3000], "unique_opens": [500, 300], "unique_clicks": [100, 20],
                       "unsubscribes": [10, 2]})
    publish(ws, email_campaigns=emails)
    (row,) = query_metrics(ws.engine, ["email_delivered", "open_rate", "click_rate", "unsubscribe_rate"],
                           grain="quarter").to_pylist()
    assert row["email_delivered"] == 4000
    assert (row["open_rate"], row["click_rate"], row["unsubscribe_rate"]) == (20.0, 3.0, 0.3)


def test_unknown_names_say_what_was_meant(ws):
    publish(ws, ad_spend=SPEND)
    with pytest.raises(NotFound, match=r"unknown metric 'clcks' \(did you mean 'clicks'\?\)"):
        query_metrics(ws.engine, ["clcks"])
    with pytest.raises(NotFound, match=r"unknown dimension 'chanel' \(did you mean 'channel'\?\)"):
        query_metrics(ws.engine, ["clicks"], by=["chanel"])
    with pytest.raises(NotFound, match=r"unknown grain 'montth' \(did you mean 'month'\?\)"):
        query_metrics(ws.engine, ["clicks"], grain="montth")
    with pytest.raises(NotFound, match="metric 'clicks' cannot be broken down by 'segment'"):
        query_metrics(ws.engine, ["clicks"], by=["segment"])


def test_bad_definition_names_file_line_and_suggestion(tmp_path):
    path = tmp_path / "marketops.yaml"
    path.write_text("name: Acme\nmetrics:\n  - name: demo_clicks\n    label: Demo clicks\n"
                    "    table: ad_spend\n    expresion: sum(clicks)\n")
    with pytest.raises(ConfigError) as e:
        load_catalog(path)
    assert e.value.location.line == 6
    assert f"{path}:6" in str(e.value) and "did you mean 'expression'" in str(e.value)

    path.write_text("metrics:\n  - name: x\n    label: X\n    table: ad_spend\n    expression: sum(clics)\n")
    with pytest.raises(ConfigError, match=r":5: .*unknown column 'clics' of ad_spend \(did you mean 'clicks'\?\)"):
        load_catalog(path)

    path.write_text("metrics:\n  - name: good\n    label: G\n    table: ad_spend\n    expression: count(*)\n"
                    "  - name: per_click\n    label: P\n    ratio: [spend, click]\n")
    with pytest.raises(ConfigError, match=r":6: metric 'per_click': unknown metric 'click' \(did you mean"):
        load_catalog(path)


def test_filters_are_parsed_never_evaluated():
    with pytest.raises(ConfigError, match="is not a condition"):
        parse_metrics("- name: x\n  label: X\n  table: ad_spend\n  expression: sum(clicks)\n"
                      "  filter: __import__('os').system('true')\n", "m.yaml")


def test_workspace_metric_overrides_and_adds(ws, tmp_path):
    publish(ws, ad_spend=SPEND)
    path = tmp_path / "marketops.yaml"
    path.write_text("metrics:\n  - name: brand_clicks\n    label: Brand clicks\n    table: ad_spend\n"
                    "    expression: sum(clicks)\n    filter: campaign in ('BRAND') and clicks >= 5\n"
                    "  - name: brand_share\n    label: Brand share\n    ratio: [brand_clicks, clicks]\n"
                    "    multiplier: 100\n    format: percent\n")
    catalog = load_catalog(path)
    (row,) = query_metrics(ws.engine, ["brand_clicks", "brand_share"], grain="quarter", catalog=catalog,
                           start=d(2024, 1, 1), end=d(2024, 3, 31)).to_pylist()
    assert row["brand_clicks"] == 20
    assert row["brand_share"] == pytest.approx(20 / 29 * 100)


def test_metric_expression_is_an_ibis_aggregate(ws):
    publish(ws, ad_spend=SPEND)
    expr = metric_expression(ws.engine.table("ad_spend"), load_catalog()["clicks"], by=["campaign"], grain="quarter")
    rows = sorted(expr.to_pyarrow().to_pylist(), key=lambda r: (r["period"], r["campaign"]))
    assert rows[-2:] == [{"period": d(2024, 1, 1), "campaign": "brand", "clicks": 24},
                         {"period": d(2024, 1, 1), "campaign": "retarget", "clicks": 5}]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 120), st.integers(1, 10_000), st.integers(0, 50)), min_size=1, max_size=30))
def test_any_grain_adds_up_to_the_total(ws, rows):
    spend = ad_spend([(d(2024, 1, 1) + dt.timedelta(days=day), "google_ads", "c", imp, min(clk, imp), "1", "EUR")
                      for day, imp, clk in rows])
    publish(ws, ad_spend=spend)
    total_clicks = sum(min(c, i) for _, i, c in rows)
    total_impressions = sum(i for _, i, _ in rows)
    for grain in ("day", "week", "month", "quarter"):
        out = query_metrics(ws.engine, ["clicks", "impressions"], grain=grain)
        assert sum(out.column("clicks").to_pylist()) == total_clicks
        assert sum(out.column("impressions").to_pylist()) == total_impressions
    (whole,) = query_metrics(ws.engine, ["ctr"], grain="quarter", start=d(2024, 1, 1), end=d(2024, 3, 31)
                             ).to_pylist() or [{"ctr": None}]
    in_q1 = [(i, min(c, i)) for day, i, c in rows if day < 91]
    if in_q1:
        assert whole["ctr"] == pytest.approx(sum(c for _, c in in_q1) / sum(i for i, _ in in_q1) * 100)


def test_cli_prints_json_and_writes_csv(ws):
    from marketops.cli import metrics as metrics_cli

    publish(ws, ad_spend=SPEND)
    ws.close()
    app = typer.Typer()
    app.command("metrics")(metrics_cli.metrics)
    app.command("other")(lambda: None)  # two commands keep `metrics` a subcommand
    out_csv = ws.root / "m.csv"
    res = CliRunner().invoke(app, ["metrics", "clicks", "ctr", "spend", "--by", "channel", "--grain", "month",
                                   "--from", "2024-01-01", "--to", "2024-01-31", "--json", "--csv", str(out_csv),
                                   "-o", str(ws.root / "m.xlsx"), "-w", str(ws.root)])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert rows[0] == {"period": "2024-01-01", "channel": "Paid Search", "clicks": 20,
                       "ctr": pytest.approx(20 / 1100 * 100), "spend": "20.00"}
    assert out_csv.read_text(encoding="utf-8-sig").splitlines()[0] == "period,channel,clicks,ctr,spend"
    sheet = openpyxl.load_workbook(ws.root / "m.xlsx").active
    assert [c.value for c in sheet[1]] == ["period", "channel", "clicks", "ctr", "spend"] and sheet.max_row == 3
    res = CliRunner().invoke(app, ["metrics", "clikcs", "-w", str(ws.root)])
    assert res.exit_code == 1 and "did you mean 'clicks'" in res.output


@pytest.mark.spark
def test_same_results_on_duckdb_and_pyspark(tmp_path):
    from tests.engines import on_each_engine

    def build(engine):
        engine.write("ad_spend__t1", SPEND)
        engine.publish({"ad_spend": "ad_spend__t1"}, "t1")
        return query_metrics(engine, ["clicks", "ctr", "spend"], by=["channel"], grain="week",
                             start=d(2024, 1, 1), end=d(2024, 2, 29), compare=["previous"]).to_pylist()

    results = on_each_engine(tmp_path, build)
    assert results["duckdb"] == results["spark"]
    assert len(results["duckdb"]) >= 4


def test_people_metrics_break_down_by_first_touch_country_segment_and_industry(ws):
    ts = dt.datetime
    stages = pa.table({"person_id": ["P1", "P1", "P2", "P3", "P4"],
                       "stage": ["Lead", "Marketing Qualified Lead", "lead", "LEAD", "lead"],
                       "entered_at": [ts(2024, 1, 2), ts(2024, 1, 9), ts(2024, 1, 3), ts(2024, 1, 4), ts(2024, 1, 5)]})
    touches = pa.table({"record_key": ["t1", "t2", "t3", "t4"], "person_id": ["P1", "P1", "P2", "P3"],
                        "occurred_at": [ts(2024, 1, 1), ts(2023, 12, 1), ts(2024, 1, 1), ts(2024, 1, 1)],
                        "channel_group": ["Email", "Paid Search", "Paid Search", "Organic Search"],
                        "source": ["newsletter", "google", "google", "bing"], "medium": ["email", "cpc", "cpc", "organic"],
                        "campaign": [None, "brand", "brand", None]})
    golden = pa.table({"person_id": ["P1", "P2", "P3", "P4"], "country": ["IT", "IT", "ES", None],
                       "account_id": ["A1", "A2", "A3", None]})
    accounts = pa.table({"account_id": ["A1", "A2", "A3"], "industry": ["Software", "Retail", "Software"],
                         "employees": pa.array([40, 150, 5000], pa.int64())})
    publish(ws, lifecycle_stages=stages, touchpoints=touches, golden_people=golden, golden_accounts=accounts)

    def by(dim, **kw):
        out = query_metrics(ws.engine, ["leads", "mqls"], by=[dim], grain="month", **kw).to_pylist()
        return {r[dim]: (r["leads"], r["mqls"]) for r in out}

    # P1's first touch is the December Paid Search click, not January's email; P4 has no touchpoint
    assert by("channel") == {"Paid Search": (2, 1), "Organic Search": (1, 0), None: (1, 0)}
    assert by("source") == {"google": (2, 1), "bing": (1, 0), None: (1, 0)}
    assert by("country") == {"IT": (2, 1), "ES": (1, 0), None: (1, 0)}
    assert by("segment") == {"SMB": (1, 1), "Mid-market": (1, 0), "Enterprise": (1, 0), None: (1, 0)}
    assert by("segment", segments={"Small": 0, "Large": 100}) == {"Small": (1, 1), "Large": (2, 0), None: (1, 0)}
    assert by("industry") == {"Software": (2, 1), "Retail": (1, 0), None: (1, 0)}
    (row,) = query_metrics(ws.engine, ["lead_to_mql_rate"], grain="month").to_pylist()
    assert row["lead_to_mql_rate"] == pytest.approx(25.0)  # "Marketing Qualified Lead" counts as an MQL


def test_a_comparison_before_the_data_begins_is_unknown_not_zero(ws):
    publish(ws, ad_spend=SPEND)
    out = query_metrics(ws.engine, ["clicks", "ctr"], grain="month", start=d(2023, 1, 1), end=d(2023, 2, 28),
                        compare=["previous", "year"]).to_pylist()
    jan, feb = out
    # nothing was recorded before January 2023: December is unknown, February 2023 truly had no clicks
    assert (jan["clicks"], jan["clicks_prev"], jan["clicks_change"], jan["clicks_last_year"]) == (2, None, None, None)
    assert jan["ctr_prev"] is None
    assert (feb["clicks"], feb["clicks_prev"], feb["clicks_change"]) == (0, 2, -1.0)
