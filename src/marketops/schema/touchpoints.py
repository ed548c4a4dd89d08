"""Touchpoints: one marketing interaction of one person or visitor at one moment."""

from marketops.schema.base import PERSON_ID, PERSON_MATCH, Cleaning, Column, Entity, Kind

S = Kind.STRING

#: The channel group every visit is counted under: the channel the source gave, else the
#: workspace's `channels:` rules, else GA4's default channel group rules, on the cleaned values.
CHANNEL_GROUP = Column("channel_group", S, "Channel group: the channel the source gave, else the workspace's "
                       "`channels:` rules, else GA4's default channel group, applied to the cleaned source, "
                       "medium and campaign (see `marketops channels explain`).")

SOURCE_RULE = ("UTM rules (lowercased, spaces to `_`, `(not set)` and unfilled macros rejected), then one name per "
               "source (`fb`, `FB Ads`, `m.facebook.com` -> `facebook`; `source_aliases` first)")
UTM_RULE = "UTM rules: lowercased, spaces to `_`, `(not set)` and unfilled macros (`{{campaign.name}}`) rejected"
UTM_CLEANING = (Cleaning("source", "utm_source", SOURCE_RULE), Cleaning("medium", "utm_value", UTM_RULE),
                Cleaning("campaign", "utm_value", UTM_RULE))

TOUCHPOINT_TYPES = ("web_session", "ad_click", "email_open", "email_click", "form_fill", "event")

TOUCHPOINTS = Entity(
    resolved=(PERSON_ID, PERSON_MATCH,),
    derived=(CHANNEL_GROUP,),
    normalised=(
        Cleaning("source", "utm_source", SOURCE_RULE + "; a visit without UTM tags takes it from `referrer`, "
                 "as GA4 does: a search engine's name, else the referring domain"),
        Cleaning("medium", "utm_value", UTM_RULE + "; from `referrer` as for `source`: `organic` for a search "
                 "engine, else `referral`"),
        UTM_CLEANING[2],
    ),
    name="touchpoints",
    description="Interactions: web sessions, ad clicks, email opens and clicks, form fills, other events.",
    key=(("record_id",),),
    hints=("occurred_at", "utm_source", "utm_medium", "gclid", "landing_page", "touchpoint_type"),
    columns=(
        Column("record_id", S, "Event or session id from the source, when it has one.",
               ("event id", "session id", "touchpoint id", "id", "event_id", "session_id")),
        Column("occurred_at", Kind.TIMESTAMP, "When it happened (UTC).",
               ("timestamp", "occurred at", "event time", "event timestamp", "time", "date", "datetime",
                "session start", "data", "fecha", "дата", "время", "event date", "created at", "visit time", "data evento", "fecha del evento", "время события"), required=True),
        Column("type", S, "Kind of touchpoint: " + ", ".join(TOUCHPOINT_TYPES) + ".",
               ("type", "touchpoint type", "event type", "interaction type", "tipo", "тип")),
        Column("event_name", S, "Event name for other events (webinar_attended, demo_requested...).",
               ("event", "event name", "event_name", "action", "evento", "событие")),
        Column("person_record_id", S, "Source record id of the person, when known.",
               ("contact id", "person id", "lead id", "contact_id", "person_id")),
        Column("email", S, "Email of the person, when known.", ("email", "e-mail", "email address", "correo", "почта")),
        Column("anonymous_id", S, "Anonymous visitor id (cookie or device).",
               ("anonymous id", "anonymous_id", "visitor id", "client id", "cookie id", "device id")),
        Column("user_id", S, "Logged-in user id sent by the tracking code.", ("user id", "user_id", "userid")),
        Column("source", S, "utm_source or the referring source.", ("utm source", "utm_source", "source", "session source", "fonte", "fuente", "источник")),
        Column("medium", S, "utm_medium.", ("utm medium", "utm_medium", "medium", "session medium", "mezzo", "medio", "канал")),
        Column("campaign", S, "utm_campaign.", ("utm campaign", "utm_campaign", "campaign", "campaign name", "campagna", "campana", "кампания")),
        Column("content", S, "utm_content.", ("utm content", "utm_content", "content", "ad content")),
        Column("term", S, "utm_term.", ("utm term", "utm_term", "term", "keyword")),
        Column("gclid", S, "Google Ads click id.", ("gclid", "google click id")),
        Column("fbclid", S, "Meta click id.", ("fbclid", "facebook click id")),
        Column("msclkid", S, "Microsoft Ads click id.", ("msclkid", "microsoft click id")),
        Column("landing_page", S, "First page of the visit.", ("landing page", "landing_page", "page", "url", "page url", "pagina di destinazione", "pagina de destino", "страница входа", "page location", "landing page url", "entry page")),
        Column("referrer", S, "Referring URL.", ("referrer", "referer", "referring url", "referrer url", "page referrer", "referral url")),
        Column("channel", S, "Channel given by the source, kept as it is.", ("channel", "default channel group", "channel group", "canale", "canal", "канал трафика")),
        Column("country", S, "Visitor country.", ("country", "paese", "pais", "страна")),
        Column("device", S, "Device category.", ("device", "device category", "dispositivo", "устройство")),
    ),
)
