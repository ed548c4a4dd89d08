"""Conversions: a person or visitor did something of value (a lead, a signup, a purchase)."""

from marketops.schema.base import PERSON_ID, PERSON_MATCH, Column, Entity, Kind

S = Kind.STRING

CONVERSIONS = Entity(
    resolved=(PERSON_ID, PERSON_MATCH,),
    name="conversions",
    description="Conversions with their type, value and currency.",
    key=(("record_id",),),
    hints=("conversion_type", "value", "order_id"),
    columns=(
        Column("record_id", S, "Conversion or order id from the source.",
               ("conversion id", "order id", "transaction id", "id", "conversion_id", "order_id")),
        Column("occurred_at", Kind.TIMESTAMP, "When it happened (UTC).",
               ("timestamp", "occurred at", "conversion time", "date", "order date", "data", "fecha", "дата"), required=True),
        Column("type", S, "Conversion type (lead, signup, demo_request, purchase, closed_won...).",
               ("type", "conversion type", "conversion name", "conversion", "goal", "tipo", "тип")),
        Column("person_record_id", S, "Source record id of the person.", ("contact id", "person id", "lead id", "customer id")),
        Column("email", S, "Email of the person.", ("email", "e-mail", "email address", "correo", "почта")),
        Column("anonymous_id", S, "Anonymous visitor id.", ("anonymous id", "anonymous_id", "visitor id", "client id")),
        Column("value", Kind.MONEY, "Value of the conversion.",
               ("value", "conversion value", "revenue", "amount", "order value", "valore", "valor", "importe", "стоимость", "сумма")),
        Column("currency", S, "ISO 4217 currency of value.", ("currency", "currency code", "valuta", "moneda", "валюта")),
        Column("opportunity_record_id", S, "Opportunity (deal) this conversion belongs to.", ("opportunity id", "deal id")),
    ),
)
