"""Exchange rates: what one unit of a currency is worth in the reporting currency, per day."""

from marketops.schema.base import Column, Entity, Kind

EXCHANGE_RATES = Entity(
    name="exchange_rates",
    description="Exchange rates per day: units of the workspace's reporting currency one unit of `currency` buys. "
                "Metrics convert money with the latest rate on or before each day.",
    key=("date", "currency"),
    hints=("exchange rate", "fx rate", "rate"),
    columns=(
        Column("date", Kind.DATE, "Day the rate applies from.", ("date", "day", "data", "fecha", "дата", "rate date"),
               required=True),
        Column("currency", Kind.STRING, "ISO 4217 currency converted from.",
               ("currency", "from currency", "currency code", "valuta", "moneda", "валюта"), required=True),
        Column("rate", Kind.DECIMAL, "Reporting-currency units per unit of `currency`.",
               ("rate", "exchange rate", "fx rate", "tasso di cambio", "cambio", "tipo de cambio", "курс",
                "курс валюты"), required=True),
    ),
)
