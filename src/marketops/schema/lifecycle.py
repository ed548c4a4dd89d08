"""Lifecycle stage history: when a person entered each stage."""

from marketops.schema.base import PERSON_ID, PERSON_MATCH, Column, Entity, Kind

S = Kind.STRING

LIFECYCLE_STAGES = Entity(
    resolved=(PERSON_ID, PERSON_MATCH,),
    name="lifecycle_stages",
    description="Lifecycle stage history: one row per person and stage entered.",
    key=(("person_record_id", "email"), "stage", "entered_at"),
    hints=("entered_at", "stage"),
    columns=(
        Column("person_record_id", S, "Source record id of the person.", ("contact id", "person id", "lead id", "record id")),
        Column("email", S, "Email of the person.", ("email", "e-mail", "email address")),
        Column("stage", S, "Stage entered (subscriber, lead, mql, sql, opportunity, customer...).", ("stage", "lifecycle stage", "new stage", "to stage", "fase", "etapa", "стадия"), required=True),
        Column("entered_at", Kind.TIMESTAMP, "When the person entered the stage.", ("entered at", "date entered", "changed at", "timestamp", "date", "data", "fecha", "дата"), required=True),
        Column("exited_at", Kind.TIMESTAMP, "When the person left the stage, if known.", ("exited at", "date exited")),
        Column("reason", S, "Why the person entered the stage, when the CRM says (a lead recycled to nurturing or "
               "rejected by sales: no budget, bad timing, wrong contact...).",
               ("reason", "stage reason", "lead status reason", "unqualified reason", "disqualification reason",
                "disqualified reason", "rejection reason", "recycle reason", "motivo", "razon", "причина")),
    ),
)
