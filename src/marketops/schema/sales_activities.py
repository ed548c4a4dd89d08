"""Sales activities: calls, emails and meetings a sales rep logged against a person.

They answer "when did sales first follow up this lead?" (the speed-to-lead SLA) and "who works this
person?" (routing, handoff quality). Exports: HubSpot's activities (engagements) export and
Salesforce's activity (Task/Event) reports; inbound activities (the lead writing to sales) are kept
but are no follow-up.
"""

from marketops.schema.base import PERSON_ID, PERSON_MATCH, Column, Entity, Kind

S = Kind.STRING

#: Activity types marketops understands; other values are kept as given.
ACTIVITY_TYPES = ("call", "email", "meeting", "task", "note", "linkedin", "sms")

SALES_ACTIVITIES = Entity(
    resolved=(PERSON_ID, PERSON_MATCH,),
    name="sales_activities",
    description="Sales activities (calls, emails, meetings...) logged in the CRM, one row per activity.",
    key=(("record_id", "person_record_id", "email"), "type", "occurred_at"),
    updated_at="updated_at",
    hints=("activity", "call", "meeting", "engagement", "task subtype", "activity date"),
    columns=(
        Column("record_id", S, "Activity id in the CRM.", ("activity id", "engagement id", "task id", "event id", "activity record id")),
        Column("person_record_id", S, "Id of the contact or lead the activity was with.", ("contact id", "lead id", "who id", "associated contact id", "associated contact ids", "contact record id", "person id")),
        Column("email", S, "Email of the contact or lead.", ("email", "contact email", "lead email", "e-mail", "email address")),
        Column("account_record_id", S, "Account (company) id.", ("account id", "company id", "associated company id", "associated company ids", "what id")),
        Column("type", S, "Activity type: call, email, meeting, task, note... (as the CRM names it).", ("activity type", "type", "task type", "task subtype", "engagement type", "tipo", "tipo attivita", "tipo de actividad", "тип", "тип активности"), required=True),
        Column("direction", S, "outbound (sales reached out) or inbound (the person reached sales).", ("direction", "call direction", "email direction", "direzione", "direccion", "направление")),
        Column("occurred_at", Kind.TIMESTAMP, "When the activity happened.", ("activity date", "date", "activity date time", "completed date", "timestamp", "occurred at", "data attivita", "fecha de actividad", "дата активности", "data", "fecha", "дата"), required=True),
        Column("owner", S, "The rep who did it.", ("activity assigned to", "assigned", "assigned to", "activity owner", "owner", "hubspot owner", "sales rep", "rep", "proprietario", "propietario", "ответственный")),
        Column("subject", S, "Subject or title.", ("subject", "title", "activity subject", "oggetto", "asunto", "тема")),
        Column("outcome", S, "Outcome (connected, left voicemail, no answer, completed...).", ("outcome", "call outcome", "meeting outcome", "disposition", "result", "esito", "resultado", "результат")),
        Column("updated_at", Kind.TIMESTAMP, "When the activity was last modified.", ("last modified date", "last modified", "updated at")),
    ),
)
