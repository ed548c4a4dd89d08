"""Consent log: a consent-management export (or a form tool's log), one row per decision a person
made about one purpose. The pipeline's ``privacy`` step checks each row's purpose and status
(unknown ones are quarantined with the reason) and publishes ``consent_state``: the newest decision
per person and purpose (see docs/privacy.md)."""

from marketops.schema.base import Column, Entity, Kind

S = Kind.STRING

#: Words in a status cell that mean consent given, or withdrawn (compared case-folded).
GRANTED_WORDS = ("granted", "grant", "given", "yes", "y", "true", "1", "opt-in", "opt in", "opted in", "optin",
                 "subscribed", "accepted", "accept", "allow", "allowed", "consented", "si", "sí", "concesso",
                 "accettato", "concedido", "aceptado", "да", "согласие", "дано", "подписан")
WITHDRAWN_WORDS = ("withdrawn", "withdraw", "revoked", "denied", "deny", "declined", "rejected", "no", "n", "false",
                   "0", "opt-out", "opt out", "opted out", "optout", "unsubscribed", "refused", "revocato",
                   "negato", "rifiutato", "revocado", "denegado", "rechazado", "нет", "отозвано", "отказ",
                   "отписан")

CONSENT = Entity(
    name="consent",
    description="Consent log: one row per decision a person made about a purpose (granted or withdrawn).",
    key=(("person_record_id", "email"), "purpose", "occurred_at"),
    updated_at=None,
    hints=("purpose", "consent", "granted", "withdrawn"),
    columns=(
        Column("person_record_id", S, "Source record id of the person (CRM contact id).",
               ("contact id", "person id", "record id", "subject id", "user id", "id contatto", "id de contacto",
                "id контакта")),
        Column("email", S, "Email of the person.",
               ("email", "e-mail", "email address", "subject email", "indirizzo email", "correo electronico",
                "correo", "электронная почта", "почта")),
        Column("purpose", S, "What the consent is for: email_marketing, tracking, profiling (or a purpose of "
               "`privacy.purposes`); common spellings such as `newsletter` or `analytics cookies` are understood.",
               ("purpose", "consent purpose", "consent type", "processing purpose", "category", "finalita",
                "finalita del trattamento", "tipo di consenso", "finalidad", "tipo de consentimiento", "цель",
                "цель обработки", "тип согласия"), required=True),
        Column("status", S, "granted or withdrawn (yes/no, opt-in/opt-out, accepted/denied... are understood).",
               ("status", "consent status", "consent", "decision", "choice", "granted", "stato", "stato consenso",
                "consenso", "estado", "estado del consentimiento", "consentimiento", "статус", "статус согласия",
                "согласие"), required=True),
        Column("source", S, "Where the decision was collected: web form, preference centre, import, API...",
               ("source", "consent source", "collection point", "channel", "method", "fonte", "origine", "canale",
                "origen", "fuente", "canal", "источник", "канал")),
        Column("occurred_at", Kind.TIMESTAMP, "When the person gave or withdrew consent.",
               ("timestamp", "consent date", "consented at", "date", "recorded at", "updated at", "created at",
                "data", "data consenso", "fecha", "fecha del consentimiento", "дата", "дата согласия", "время"),
               required=True),
    ),
)
