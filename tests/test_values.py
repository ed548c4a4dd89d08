"""Typed parsing of raw text columns: values written in local formats come out right."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketops.errors import ConfigError
from marketops.ingest.values import (
    ColumnFormat,
    blank_expression,
    currency_expression,
    infer_formats,
    parse_expression,
)
from marketops.schema import Kind


@pytest.fixture(scope="module")
def con():
    return duckdb.connect()


def load(con, values, kind, **kwargs):
    """Put ``values`` in a raw text column, infer its format and parse it: [(typed, currency)]."""
    con.execute("CREATE OR REPLACE TABLE raw (v VARCHAR)")
    con.executemany("INSERT INTO raw VALUES (?)", [[v] for v in values])
    fmt = infer_formats(con, "raw", {"v": kind}, **kwargs)["v"]
    return fmt, parsed(con, fmt)


def parsed(con, fmt):
    currency = currency_expression("v", fmt)
    extra = f", {currency.sql('duckdb')}" if currency is not None else ""
    rows = con.execute(f"SELECT {parse_expression('v', fmt).sql('duckdb')}{extra} FROM raw").fetchall()
    return [r if currency is not None else r[0] for r in rows]


# --- numbers -------------------------------------------------------------------------------------

def test_decimal_comma_column_with_spaces_and_accounting_negatives(con):
    fmt, out = load(con, ["1.234,56", "3,5", "-12", "(12,50)", "1 234,56", "1\u00a0234,56", "1\u202f234,5"],
                    Kind.DECIMAL)
    assert fmt.decimal_sep == ","
    assert out == [1234.56, 3.5, -12.0, -12.5, 1234.56, 1234.56, 1234.5]
    assert fmt.expected() == "a number like 1.234,56"


def test_decimal_point_column_with_swiss_apostrophes_and_percent(con):
    fmt, out = load(con, ["1,234.56", "1'234.50", "12%", "(12.50)", "0.5", "1.2E+07"], Kind.DECIMAL)
    assert fmt.decimal_sep == "."
    assert out == [1234.56, 1234.5, 12.0, -12.5, 0.5, 12_000_000.0]


def test_a_value_in_the_other_convention_fails_instead_of_changing_magnitude(con):
    # "1,5" in a decimal-point column must not silently become 15.
    _, out = load(con, ["1,234.56", "2.50", "1,5"], Kind.DECIMAL)
    assert out == [1234.56, 2.5, None]


def test_ambiguous_thousands_are_decided_by_the_rest_of_the_column(con):
    assert load(con, ["1.234", "3,5"], Kind.DECIMAL)[1] == [1234.0, 3.5]
    assert load(con, ["1.234", "1.234.567"], Kind.DECIMAL)[1] == [1234.0, 1234567.0]
    assert load(con, ["1.234", "1,234.5"], Kind.DECIMAL)[1] == [1.234, 1234.5]


def test_three_decimals_only_column_is_thousands_for_counts_and_decimals_otherwise(con):
    assert load(con, ["1.234", "2.500"], Kind.INTEGER)[1] == [1234, 2500]
    assert load(con, ["1.234", "2.500"], Kind.DECIMAL)[1] == [1.234, 2.5]


def test_integers_in_every_grouping_and_whole_decimals(con):
    fmt, out = load(con, ["1,234", "1 234", "12.0", "-7", "12.5"], Kind.INTEGER)
    assert out == [1234, 1234, 12, -7, None]  # 12.5 people is an error, not 13
    assert load(con, ["1.234", "1.234.567", "5"], Kind.INTEGER)[1] == [1234, 1234567, 5]


def test_blanks_placeholders_and_garbage_give_null(con):
    values = ["", "  ", "null", "NULL", "n/a", "N/A", "#N/A", "-", "--", "none", "(not set)",
              "abc", "12 apples"]
    _, out = load(con, values, Kind.DECIMAL)
    assert out == [None] * len(values)


def test_money_with_symbols_and_codes(con):
    fmt, out = load(con, ["$1,200", "1 200 €", "1200.5 USD", "£5", "₽ 500", "500 руб.", "¥100", "CHF 10",
                          "R$ 12", "-$5", "($12.50)", "12"], Kind.MONEY)
    amounts = ("1200", "1200", "1200.5", "5", "500", "500", "100", "10", "12", "-5", "-12.5", "12")
    assert [a for a, _ in out] == [Decimal(x) for x in amounts]
    currencies = ["USD", "EUR", "USD", "GBP", "RUB", "RUB", "JPY", "CHF", "BRL", "USD", "USD", None]
    assert [c for _, c in out] == currencies


def test_money_with_decimal_comma_and_codes(con):
    fmt, out = load(con, ["EUR 1.234,56", "1.234,56 EUR", "3,50 €", "eur 7"], Kind.MONEY)
    assert fmt.decimal_sep == ","
    assert out == [(Decimal("1234.56"), "EUR"), (Decimal("1234.56"), "EUR"), (Decimal("3.5"), "EUR"),
                   (Decimal("7"), "EUR")]


def test_money_keeps_cents_exactly(con):
    _, out = load(con, ["0.10", "0.20", "0.30"], Kind.MONEY)
    assert sum(a for a, _ in out) == Decimal("0.60")


def test_currency_is_only_for_money():
    assert currency_expression("v", ColumnFormat(Kind.DECIMAL)) is None


# --- dates ---------------------------------------------------------------------------------------

def test_day_first_is_proved_by_a_day_above_12(con):
    fmt, out = load(con, ["12/03/2024", "13/03/2024", "2024-03-12"], Kind.DATE)
    assert fmt.date_order == "DMY"
    assert out == [dt.date(2024, 3, 12), dt.date(2024, 3, 13), dt.date(2024, 3, 12)]
    assert fmt.expected() == "a date like 31/12/2024 (day first)"


def test_month_first_is_proved_by_a_second_part_above_12(con):
    fmt, out = load(con, ["03/12/2024", "03/13/2024"], Kind.DATE)
    assert fmt.date_order == "MDY"
    assert out == [dt.date(2024, 3, 12), dt.date(2024, 3, 13)]


def test_ambiguous_column_uses_the_default_order(con):
    assert load(con, ["03/04/2024"], Kind.DATE)[1] == [dt.date(2024, 4, 3)]
    assert load(con, ["03/04/2024"], Kind.DATE, default_date_order="MDY")[1] == [dt.date(2024, 3, 4)]


def test_other_date_spellings(con):
    values = ["12.03.2024", "12-03-2024", "12/03/24", "2024/03/12", "March 12, 2024", "12 Mar 2024",
              "12-Mar-2024", "20240312", "2024.03.12", " 2024-03-12 "]
    _, out = load(con, values, Kind.DATE)
    assert out == [dt.date(2024, 3, 12)] * len(values)


def test_two_digit_dash_years_are_not_read_as_year_12(con):
    # DuckDB's own cast reads "12-03-24" as 0012-03-24; the column format must not let it.
    _, out = load(con, ["12-03-24", "2024-03-12", "31-12-24"], Kind.DATE)
    assert out == [dt.date(2024, 3, 12), dt.date(2024, 3, 12), dt.date(2024, 12, 31)]


def test_excel_serials(con):
    fmt, out = load(con, ["45363", "45363.5"], Kind.DATE)
    assert fmt.excel_serial and out == [dt.date(2024, 3, 12)] * 2
    _, out = load(con, ["45363", "45363.5"], Kind.TIMESTAMP)
    assert out == [dt.datetime(2024, 3, 12), dt.datetime(2024, 3, 12, 12)]


def test_plain_numbers_outside_the_serial_range_are_not_dates(con):
    fmt, out = load(con, ["45363", "123"], Kind.DATE)
    assert not fmt.excel_serial and out == [None, None]


def test_timestamps_with_zones_are_converted_to_utc(con):
    values = ["2024-03-12T14:03:00Z", "2024-03-12T14:03:00+01:00", "2024-03-12T14:03:00.250+0100",
              "2024-03-12 09:03:00-05", "2024-03-12 14:03:00 UTC"]
    _, out = load(con, values, Kind.TIMESTAMP, timezone="Europe/Rome")
    assert out == [dt.datetime(2024, 3, 12, 14, 3), dt.datetime(2024, 3, 12, 13, 3),
                   dt.datetime(2024, 3, 12, 13, 3, 0, 250000), dt.datetime(2024, 3, 12, 14, 3),
                   dt.datetime(2024, 3, 12, 14, 3)]


def test_naive_timestamps_are_read_in_the_workspace_time_zone(con):
    values = ["2024-03-12 14:03", "12/03/2024 14:03:22", "13/03/2024 2:03 PM", "2024-07-01T10:00:00",
              "13/03/2024 14:03 +02:00"]
    _, out = load(con, values, Kind.TIMESTAMP, timezone="Europe/Rome")
    assert out == [dt.datetime(2024, 3, 12, 13, 3), dt.datetime(2024, 3, 12, 13, 3, 22),
                   dt.datetime(2024, 3, 13, 13, 3), dt.datetime(2024, 7, 1, 8, 0),  # summer time: UTC+2
                   dt.datetime(2024, 3, 13, 12, 3)]


def test_date_only_values_in_a_timestamp_column_are_local_midnight(con):
    assert load(con, ["2024-03-12", "13/03/2024"], Kind.TIMESTAMP)[1] == [
        dt.datetime(2024, 3, 12), dt.datetime(2024, 3, 13)]
    assert load(con, ["2024-03-12"], Kind.TIMESTAMP, timezone="America/New_York")[1] == [
        dt.datetime(2024, 3, 12, 4)]


def test_unknown_time_zone_is_a_config_error(con):
    con.execute("CREATE OR REPLACE TABLE raw (v VARCHAR)")
    with pytest.raises(ConfigError, match="Mars/Olympus"):
        infer_formats(con, "raw", {"v": Kind.TIMESTAMP}, timezone="Mars/Olympus")


def test_unparseable_dates_are_null_never_an_error(con):
    _, out = load(con, ["2024-03-12", "31/02/2024", "yesterday", "n/a", "2024-13-45"], Kind.DATE)
    assert out == [dt.date(2024, 3, 12), None, None, None, None]


# --- booleans, strings, blanks -------------------------------------------------------------------

def test_booleans_in_several_languages(con):
    values = ["true", "FALSE", "Yes", "no", "y", "N", "1", "0", "t", "f", "x", "sì", "si", "да", "НЕТ",
              "verdadero", "falso", "vero", "maybe", "", "n/a"]
    _, out = load(con, values, Kind.BOOLEAN)
    assert out == [True, False, True, False, True, False, True, False, True, False, True, True, True, True,
                   False, True, False, True, None, None, None]


def test_strings_are_trimmed_and_placeholders_become_null(con):
    _, out = load(con, ["  Ada \u00a0", "(not set)", "--", "None", "Nan"], Kind.STRING)
    assert out == ["Ada", None, None, None, "Nan"]


def test_blank_expression_tells_blank_cells_from_bad_values(con):
    con.execute("CREATE OR REPLACE TABLE raw AS "
                "SELECT * FROM (VALUES (NULL), (' '), ('#N/A'), ('0'), ('x')) t(v)")
    rows = con.execute(f"SELECT {blank_expression('v').sql('duckdb')} FROM raw").fetchall()
    assert [r[0] for r in rows] == [True, True, True, False, False]


def test_infer_formats_profiles_many_columns_in_one_query_with_awkward_names(con):
    con.execute('CREATE OR REPLACE TABLE "raw data" AS SELECT * FROM (VALUES '
                "('1.234,5', '13/01/2024', 'ja', 'x'), ('2,5', '01/02/2024', 'nein', 'y')) "
                't("Amount ""EUR""", "Date", "ok", "s")')
    formats = infer_formats(con, "raw data", {'Amount "EUR"': Kind.DECIMAL, "Date": Kind.DATE,
                                              "ok": Kind.BOOLEAN, "s": Kind.STRING})
    assert formats['Amount "EUR"'].decimal_sep == "," and formats["Date"].date_order == "DMY"
    cols = ", ".join(parse_expression(c, f).sql("duckdb") for c, f in formats.items())
    assert con.execute(f'SELECT {cols} FROM "raw data"').fetchall() == [
        (1234.5, dt.date(2024, 1, 13), True, "x"), (2.5, dt.date(2024, 2, 1), False, "y")]


def test_parse_expression_without_profile_reads_common_formats(con):
    con.execute("CREATE OR REPLACE TABLE raw AS "
                "SELECT * FROM (VALUES ('2024-03-12'), ('12/03/2024 10:00')) t(v)")
    assert parsed(con, ColumnFormat(Kind.TIMESTAMP)) == [dt.datetime(2024, 3, 12),
                                                         dt.datetime(2024, 3, 12, 10)]


# --- properties ----------------------------------------------------------------------------------

def _format_amount(cents: int, style: str) -> str:
    sign, cents = ("-" if cents < 0 else ""), abs(cents)
    whole, frac = divmod(cents, 100)
    groups = f"{whole:,}"
    sep_thousands, sep_decimal = {
        "en": (",", "."), "de": (".", ","), "fr": ("\u202f", ","), "ch": ("'", "."), "ru": ("\u00a0", ","),
        "plain": ("", "."),
    }[style]
    text = groups.replace(",", sep_thousands) + sep_decimal + f"{frac:02d}"
    return sign + text


_settings = settings(max_examples=40, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])


@_settings
@given(st.lists(st.integers(-10**11, 10**11), min_size=1, max_size=20),
       st.sampled_from(["en", "de", "fr", "ch", "ru", "plain"]),
       st.sampled_from([Kind.DECIMAL, Kind.MONEY]))
def test_amounts_in_any_locale_parse_back_to_the_cent(con, cents, style, kind):
    _, out = load(con, [_format_amount(c, style) for c in cents], kind)
    values = [a for a, _ in out] if kind is Kind.MONEY else out
    assert [round(Decimal(str(v)) * 100) for v in values] == cents


@_settings
@given(st.lists(st.dates(dt.date(1950, 1, 1), dt.date(2100, 12, 31)), min_size=1, max_size=20),
       st.sampled_from(["DMY", "MDY"]), st.sampled_from(["/", ".", "-"]),
       st.dates(dt.date(1950, 1, 1), dt.date(2100, 12, 31)).filter(lambda d: d.day > 12))
def test_dates_in_either_order_parse_back_when_one_value_is_unambiguous(con, dates, order, sep, witness):
    pattern = f"%d{sep}%m{sep}%Y" if order == "DMY" else f"%m{sep}%d{sep}%Y"
    dates = [*dates, witness]
    # The default order is the wrong one on purpose: the unambiguous witness must decide.
    _, out = load(con, [d.strftime(pattern) for d in dates], Kind.DATE,
                  default_date_order="MDY" if order == "DMY" else "DMY")
    assert out == dates


def test_iso_columns_take_the_quick_path_and_mixed_columns_the_full_profile():
    import duckdb

    from marketops.ingest.values import infer_formats, parse_expression
    from marketops.schema import Kind

    con = duckdb.connect()
    con.execute("CREATE TABLE raw AS SELECT * FROM (VALUES ('2024-03-01T10:00:00+01:00', '2024-03-01 10:00'),"
                " ('2024-03-02T10:00:00Z', '25/03/2024 10:00'), (' ', NULL)) t(iso, mixed)").fetchall()
    fmts = infer_formats(con, "raw", {"iso": Kind.TIMESTAMP, "mixed": Kind.TIMESTAMP})
    got = con.execute(f"SELECT {parse_expression('iso', fmts['iso']).sql('duckdb')}::VARCHAR, "
                      f"{parse_expression('mixed', fmts['mixed']).sql('duckdb')}::VARCHAR FROM raw").fetchall()
    assert got == [("2024-03-01 09:00:00", "2024-03-01 10:00:00"), ("2024-03-02 10:00:00", "2024-03-25 10:00:00"),
                   (None, None)]
