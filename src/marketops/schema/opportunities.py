"""Opportunities (deals): pipeline and revenue from the CRM."""

from marketops.schema.base import PERSON_ID, PERSON_MATCH, Column, Entity, Kind

S = Kind.STRING

OPPORTUNITIES = Entity(
    resolved=(PERSON_ID, PERSON_MATCH,),
    name="opportunities",
    description="Deals and opportunities with amount, stage, owner and dates.",
    key=(("record_id", "name"),),
    updated_at="updated_at",
    hints=("amount", "stage", "close_date", "deal", "opportunity"),
    columns=(
        Column("record_id", S, "Deal or opportunity id in the CRM.", ("record id", "deal id", "opportunity id", "id", "deal_id", "opportunity_id")),
        Column("name", S, "Deal name.", ("deal name", "opportunity name", "name", "nome opportunita", "nombre de la oportunidad", "название сделки")),
        Column("account_record_id", S, "Account (company) id.", ("account id", "company id", "associated company id", "associated company ids")),
        Column("account_name", S, "Account (company) name.", ("account name", "company name", "company", "azienda", "empresa", "компания")),
        Column("person_record_id", S, "Primary contact id.", ("contact id", "primary contact id", "associated contact id", "associated contact ids")),
        Column("email", S, "Primary contact email.", ("contact email", "email", "primary contact email")),
        Column("amount", Kind.MONEY, "Deal amount.", ("amount", "deal amount", "value", "importo", "valore", "importe", "сумма", "deal value", "opportunity amount", "valore opportunita", "importe de la oportunidad", "сумма сделки")),
        Column("currency", S, "ISO 4217 currency of amount.", ("currency", "currency code", "amount currency", "opportunity currency", "valuta", "moneda", "валюта")),
        Column("stage", S, "Deal stage (e.g. qualification, proposal, closed won).", ("deal stage", "stage", "fase", "etapa", "стадия", "этап", "stage name", "fase opportunita", "etapa de la oportunidad")),
        Column("pipeline", S, "Sales pipeline name.", ("pipeline",)),
        Column("owner", S, "Deal owner.", ("deal owner", "opportunity owner", "owner", "proprietario", "propietario", "владелец", "proprietario opportunita", "ответственный")),
        Column("lead_source", S, "Lead source recorded on the deal.", ("lead source", "source", "original source", "fonte", "fuente")),
        Column("created_at", Kind.TIMESTAMP, "When the deal was created.", ("create date", "created date", "created", "created at", "data di creazione", "fecha de creacion", "дата создания")),
        Column("closed_at", Kind.TIMESTAMP, "When the deal closed (won or lost).", ("close date", "closed date", "closed at", "data di chiusura", "fecha de cierre", "дата закрытия", "expected close date", "data chiusura")),
        Column("is_won", Kind.BOOLEAN, "Closed won.", ("won", "is won", "closed won")),
        Column("is_closed", Kind.BOOLEAN, "Closed (won or lost).", ("closed", "is closed")),
        Column("updated_at", Kind.TIMESTAMP, "When the deal was last modified.", ("last modified date", "last modified", "updated at")),
    ),
)
