"""Email campaigns: one send, with delivery and engagement counts."""

from marketops.schema.base import Column, Entity, Kind

S, I = Kind.STRING, Kind.INTEGER

EMAIL_CAMPAIGNS = Entity(
    name="email_campaigns",
    description="Email campaign sends with delivered, unique opens and clicks, bounces and unsubscribes.",
    key=("platform", ("campaign_id", "name")),
    hints=("unique_opens", "unique_clicks", "bounces", "unsubscribes", "delivered"),
    columns=(
        Column("campaign_id", S, "Campaign id in the email tool.", ("campaign id", "email id", "id")),
        Column("name", S, "Campaign name.", ("campaign name", "title", "name", "email name", "campaign", "nome campagna", "nombre de la campana", "название кампании")),
        Column("subject", S, "Subject line.", ("subject", "subject line", "oggetto", "asunto", "тема")),
        Column("platform", S, "Email tool (mailchimp, hubspot...).", ("platform", "tool")),
        Column("list_name", S, "Audience or list the campaign was sent to.", ("list", "list name", "audience", "segment", "lista", "список")),
        Column("sent_at", Kind.TIMESTAMP, "When it was sent (UTC).", ("send date", "sent date", "send time", "sent at", "sent", "data di invio", "fecha de envio", "дата отправки", "send date/time", "data invio", "fecha envio")),
        Column("sent", I, "Emails sent.", ("total recipients", "recipients", "emails sent", "sends", "inviati", "enviados", "отправлено")),
        Column("delivered", I, "Emails delivered.", ("successful deliveries", "delivered", "deliveries", "consegnati", "entregados", "доставлено", "emails delivered", "delivered emails", "entregas")),
        Column("unique_opens", I, "Recipients who opened at least once.", ("unique opens", "opened", "opens", "aperture uniche", "aperturas unicas", "уникальные открытия", "unique opened", "unique open", "aperture")),
        Column("unique_clicks", I, "Recipients who clicked at least once.", ("unique clicks", "clicked", "unique subscriber clicks", "clic unici", "clics unicos", "уникальные клики")),
        Column("bounces", I, "Bounced emails (hard and soft).", ("bounces", "bounced", "total bounces", "rimbalzi", "rebotes", "отказы")),
        Column("unsubscribes", I, "Unsubscribes caused by the send.", ("unsubscribes", "unsubscribed", "disiscrizioni", "bajas", "отписки")),
        Column("complaints", I, "Spam complaints.", ("abuse complaints", "spam reports", "complaints")),
    ),
)
