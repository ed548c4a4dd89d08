"""People: contacts and leads from CRMs, email tools and forms, one row per source record."""

from marketops.schema.base import ACCOUNT_ID, ACCOUNT_MATCH, PERSON_ID, Cleaning, Column, Entity, Kind

S, T, D = Kind.STRING, Kind.TIMESTAMP, Kind.DATE

NAME_RULE = "case and spacing tidied in any script (`JOHN smith` -> `John Smith`, `ИВАН петров` -> `Иван Петров`)"
COMPANY_RULE = "spacing tidied and the legal form removed (`ACME Inc.` -> `ACME`, `ООО «Ромашка»` -> `Ромашка`)"
COUNTRY_RULE = "ISO 3166 alpha-2 code, from codes or names in many languages (`Italia`, `ITA`, `Италия` -> `IT`)"
COMPANY_KEY = Column("company_key", S, "The company name as a matching key: casefolded, without accents, "
                     "punctuation or legal form (`ACME Inc.` and `Acme, Inc` -> `acme`).")

PEOPLE = Entity(
    resolved=(PERSON_ID, ACCOUNT_ID, ACCOUNT_MATCH,),
    name="people",
    description="Contacts and leads as the source systems know them: one row per source record.",
    key=(("record_id", "email"),),
    updated_at="updated_at",
    hints=("email", "first_name", "last_name", "job_title", "lifecycle_stage", "lead_status"),
    normalised=(
        Cleaning("email", "email", "lowercased, display name and `mailto:` removed, an international domain in "
                 "ASCII (punycode), syntax checked; placeholders (`n/a`, `test@test.com`) rejected"),
        Cleaning("first_name", "person_name", NAME_RULE + "; taken from `full_name` when missing"),
        Cleaning("last_name", "person_name", NAME_RULE + "; taken from `full_name` when missing"),
        Cleaning("full_name", "person_name", NAME_RULE),
        Cleaning("phone", "phone", "E.164 (`+390212345678`); a number without country code is read in the "
                 "record's `country`, else in `default_region`; impossible numbers rejected"),
        Cleaning("company", "company", COMPANY_RULE),
        Cleaning("job_title", "job_title", "spacing tidied, case kept; placeholders rejected"),
        Cleaning("country", "country", COUNTRY_RULE),
    ),
    derived=(
        Column("email_domain", S, "Domain of the clean email (`acme.com`)."),
        Column("email_role", Kind.BOOLEAN, "The clean email is a role mailbox (`info@`, `sales@`...), not a person's."),
        Column("email_disposable", Kind.BOOLEAN, "The clean email is at a disposable-mail domain (`mailinator.com`...)."),
        COMPANY_KEY,
        Column("seniority", S, "From the job title: c_level, vp, director, manager, individual_contributor or unknown."),
        Column("job_function", S, "From the job title: marketing, sales, engineering, finance, operations, hr, it, "
               "executive or other."),
    ),
    columns=(
        Column("record_id", S, "The record's id in its source system (HubSpot Record ID, Salesforce Lead ID...).",
               ("record id", "contact id", "lead id", "person id", "id", "contact_id", "lead_id", "vid",
                "id contatto", "id de contacto", "id контакта")),
        Column("email", S, "Email address as given by the source.",
               ("email", "e-mail", "email address", "e-mail address", "mail", "correo", "correo electronico",
                "posta elettronica", "indirizzo email", "электронная почта", "почта", "емейл", "email адрес", "work email", "business email", "email 1", "email lavoro", "correo del trabajo", "эл почта", "e-mail адрес", "емайл", "email contatto")),
        Column("first_name", S, "Given name.",
               ("first name", "firstname", "fname", "f name", "given name", "forename", "nome", "nombre",
                "имя", "prenom", "vorname", "first", "given names", "primer nombre", "имя контакта", "nome contatto")),
        Column("last_name", S, "Family name.",
               ("last name", "lastname", "lname", "l name", "surname", "family name", "cognome", "apellido",
                "apellidos", "фамилия", "nom", "nachname", "last", "family names", "segundo apellido", "фамилия контакта")),
        Column("full_name", S, "The whole name when the source does not split it.",
               ("full name", "name", "contact name", "lead name", "nome completo", "nombre completo", "фио",
                "полное имя", "nome e cognome", "nombre y apellidos", "имя и фамилия")),
        Column("phone", S, "Phone number as given.",
               ("phone", "phone number", "telephone", "tel", "mobile", "mobile phone", "mobile phone number",
                "cell", "telefono", "cellulare", "movil", "телефон", "мобильный телефон", "work phone", "business phone", "phone 1", "numero di telefono", "telefono cellulare", "numero de telefono", "телефон мобильный", "мобильный", "номер телефона")),
        Column("company", S, "Company name as typed on the record.",
               ("company", "company name", "organization", "organisation", "account name", "azienda",
                "societa", "empresa", "компания", "организация", "organization name", "organisation name", "nome azienda", "nombre de la empresa", "название компании", "associated company")),
        Column("job_title", S, "Job title.",
               ("job title", "title", "position", "role", "jobtitle", "ruolo", "qualifica", "cargo", "puesto",
                "должность", "job role", "titolo", "posizione lavorativa", "puesto de trabajo", "titulo")),
        Column("website", S, "Company website or domain.",
               ("website", "website url", "web site", "domain", "company domain name", "sito web", "sitio web",
                "веб сайт", "сайт")),
        Column("country", S, "Country name or code as given.",
               ("country", "country region", "country/region", "nation", "paese", "nazione", "pais",
                "страна", "mailing country", "country name", "pais/region")),
        Column("region", S, "State, province or region.",
               ("state", "state region", "state/region", "province", "region", "regione", "provincia",
                "estado", "регион", "область", "state/province", "mailing state/province", "provincia/stato", "estado/provincia", "край")),
        Column("city", S, "City.", ("city", "town", "citta", "ciudad", "город", "mailing city", "comune", "localita", "poblacion", "населенный пункт")),
        Column("postcode", S, "Postal code.",
               ("postal code", "postcode", "zip", "zip code", "cap", "codice postale", "codigo postal",
                "почтовый индекс", "индекс", "zip/postal code", "postal/zip code", "mailing zip/postal code", "cp", "código postal", "zip code/postal code")),
        Column("address", S, "Street address.",
               ("address", "street", "street address", "indirizzo", "direccion", "адрес", "street address 1", "address line 1", "mailing street", "via", "calle", "улица")),
        Column("lifecycle_stage", S, "Lifecycle stage in the source (subscriber, lead, MQL, SQL, customer...).",
               ("lifecycle stage", "lifecyclestage", "stage", "fase del ciclo di vita", "etapa del ciclo de vida",
                "стадия жизненного цикла")),
        Column("lead_status", S, "Lead status in the source (new, working, nurturing, unqualified...).",
               ("lead status", "status", "stato lead", "estado del lead", "статус лида")),
        Column("lead_source", S, "Original or lead source as the CRM records it.",
               ("lead source", "original source", "source", "fonte", "origine", "origen", "fuente", "источник", "fonte lead", "origen del lead", "источник лида")),
        Column("owner", S, "Owner of the record (sales rep or marketer).",
               ("owner", "contact owner", "lead owner", "record owner", "proprietario", "propietario",
                "владелец", "ответственный", "assigned to", "sales rep", "assegnato a", "asignado a", "менеджер")),
        Column("account_record_id", S, "Id of the account (company) record this person belongs to.",
               ("account id", "company id", "associated company id", "associated company ids", "account_id")),
        Column("anonymous_id", S, "Anonymous visitor id (cookie or device) linked to this person.",
               ("anonymous id", "anonymous_id", "visitor id", "client id", "cookie id")),
        Column("created_at", T, "When the record was created in the source.",
               ("create date", "created", "created at", "created date", "date created", "createdate",
                "data di creazione", "fecha de creacion", "дата создания", "created on", "date added", "signup date", "create date/time", "data creazione", "fecha de alta", "дата регистрации")),
        Column("updated_at", T, "When the record was last modified in the source.",
               ("last modified date", "last modified", "updated", "updated at", "modified", "lastmodifieddate",
                "ultima modifica", "fecha de modificacion", "дата изменения", "last modified on", "modified date", "data ultima modifica", "ultima actualizacion", "дата обновления")),
        Column("unsubscribed", Kind.BOOLEAN, "Opted out of marketing email.",
               ("unsubscribed", "opted out", "email opt out", "unsubscribed from all email", "has opted out of email", "email opt-out", "do not email", "opt out", "disiscritto", "baja", "отписан", "отписался")),
    ),
)
