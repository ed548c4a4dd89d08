"""Web traffic: daily sessions per source, medium and campaign, as analytics tools report them.

Analytics exports such as GA4's traffic-acquisition report are aggregated, not per visitor, so
they get a table of their own rather than pretending to be touchpoints.
"""

from marketops.schema.base import Column, Entity, Kind
from marketops.schema.touchpoints import CHANNEL_GROUP, UTM_CLEANING

S, I = Kind.STRING, Kind.INTEGER

WEB_TRAFFIC = Entity(
    derived=(CHANNEL_GROUP,),
    normalised=UTM_CLEANING,
    name="web_traffic",
    description="Daily web sessions and engagement per source, medium, campaign and channel group.",
    key=("date", "source", "medium", "campaign", "channel"),
    hints=("sessions", "engaged_sessions", "engagement_rate"),
    columns=(
        Column("date", Kind.DATE, "Day.", ("date", "day", "data", "fecha", "дата", "ga date", "giorno", "dia", "день"), required=True),
        Column("source", S, "Session source.", ("session source", "source", "first user source", "ga source", "sorgente sessione", "origen de la sesion", "источник сеанса")),
        Column("medium", S, "Session medium.", ("session medium", "medium", "first user medium", "ga medium", "mezzo sessione", "medio de la sesion", "канал сеанса")),
        Column("campaign", S, "Session campaign.", ("session campaign", "campaign", "session campaign name")),
        Column("channel", S, "Channel group as the analytics tool assigned it.", ("session default channel group", "session primary channel group", "default channel group", "channel")),
        Column("sessions", I, "Sessions.", ("sessions", "sessioni", "sesiones", "сеансы", "сессии", "ga sessions", "visits", "visite", "visitas", "визиты")),
        Column("engaged_sessions", I, "Engaged sessions.", ("engaged sessions", "sessioni con engagement", "sesiones con interaccion", "сеансы с взаимодействием")),
        Column("users", I, "Active or total users.", ("users", "total users", "active users", "utenti", "usuarios", "пользователи", "ga users", "utenti attivi", "usuarios activos", "активные пользователи")),
        Column("new_users", I, "New users.", ("new users", "ga new users", "nuovi utenti", "usuarios nuevos", "новые пользователи")),
        Column("conversions", Kind.DECIMAL, "Conversions (key events).", ("conversions", "key events")),
        Column("revenue", Kind.MONEY, "Revenue reported by the analytics tool.", ("total revenue", "revenue", "purchase revenue")),
        Column("currency", S, "Currency of revenue.", ("currency",)),
    ),
)
