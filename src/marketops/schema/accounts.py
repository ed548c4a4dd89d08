"""Accounts: companies as the CRMs know them."""

from marketops.schema.base import Cleaning, Column, Entity, Kind
from marketops.schema.people import COMPANY_KEY, COMPANY_RULE, COUNTRY_RULE

S = Kind.STRING

ACCOUNTS = Entity(
    name="accounts",
    description="Companies (accounts) from the CRMs: one row per source record.",
    key=(("record_id", "domain", "name"),),
    updated_at="updated_at",
    hints=("industry", "employees", "annual_revenue", "domain"),
    normalised=(
        Cleaning("name", "company", COMPANY_RULE),
        Cleaning("domain", "domain", "the bare host, lowercased, without scheme, path or `www.` "
                 "(`https://www.Acme.com/en` -> `acme.com`); an international domain in ASCII (punycode)"),
        Cleaning("country", "country", COUNTRY_RULE),
    ),
    derived=(COMPANY_KEY,),
    columns=(
        Column("record_id", S, "The account's id in its source system.",
               ("record id", "company id", "account id", "id", "account_id", "company_id")),
        Column("name", S, "Company name.",
               ("company name", "account name", "name", "organization", "organisation", "ragione sociale",
                "nome azienda", "nombre de la empresa", "razon social", "название компании", "компания")),
        Column("domain", S, "Company web domain.",
               ("company domain name", "domain", "website", "website url", "dominio", "домен", "сайт")),
        Column("industry", S, "Industry.", ("industry", "settore", "industria", "sector", "отрасль")),
        Column("employees", Kind.INTEGER, "Number of employees.",
               ("number of employees", "employees", "employee count", "headcount", "dipendenti", "empleados",
                "число сотрудников", "сотрудники")),
        Column("annual_revenue", Kind.MONEY, "Annual revenue.",
               ("annual revenue", "revenue", "fatturato", "ingresos anuales", "годовой доход", "выручка")),
        Column("currency", S, "Currency of annual revenue (ISO 4217).", ("currency", "currency code", "valuta", "moneda", "валюта")),
        Column("country", S, "Country.", ("country", "country/region", "country region", "paese", "pais", "страна")),
        Column("city", S, "City.", ("city", "citta", "ciudad", "город")),
        Column("owner", S, "Account owner.", ("owner", "company owner", "account owner", "proprietario", "propietario", "владелец")),
        Column("created_at", Kind.TIMESTAMP, "When the record was created.",
               ("create date", "created date", "created", "created at", "data di creazione", "fecha de creacion", "дата создания")),
        Column("updated_at", Kind.TIMESTAMP, "When the record was last modified.",
               ("last modified date", "last modified", "updated at", "ultima modifica", "дата изменения")),
    ),
)
