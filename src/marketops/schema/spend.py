"""Ad spend: day x platform x campaign x ad group, with delivery and cost."""

from marketops.schema.base import Cleaning, Column, Entity, Kind
from marketops.schema.touchpoints import UTM_RULE

S, I = Kind.STRING, Kind.INTEGER

AD_SPEND = Entity(
    name="ad_spend",
    # cleaned as utm_campaign is, so spend and the visits it bought meet under one campaign name
    normalised=(Cleaning("campaign", "utm_value", UTM_RULE + "; the same rules as `utm_campaign`, so a campaign's "
                         "spend and its visits line up"),),
    description="Advertising delivery and cost per day, platform, campaign and ad group.",
    key=("platform", "date", ("campaign_id", "campaign"), ("ad_group_id", "ad_group")),
    hints=("impressions", "cost", "ad_group", "cpc"),
    columns=(
        Column("date", Kind.DATE, "Day of delivery.", ("day", "date", "reporting starts", "start date", "giorno", "dia", "fecha", "дата", "день", "date start", "segment date", "reporting date"), required=True),
        Column("platform", S, "Ad platform (google_ads, meta_ads, linkedin_ads, microsoft_ads...).", ("platform", "network", "piattaforma", "plataforma", "платформа")),
        Column("account_id", S, "Ad account id.", ("account id", "customer id", "ad account id")),
        Column("campaign_id", S, "Campaign id.", ("campaign id", "campaign_id")),
        Column("campaign", S, "Campaign name.", ("campaign", "campaign name", "campagna", "campana", "кампания", "nome campagna", "nombre de la campana", "название кампании")),
        Column("ad_group_id", S, "Ad group (ad set) id.", ("ad group id", "ad set id", "adset id")),
        Column("ad_group", S, "Ad group (ad set) name.", ("ad group", "ad group name", "ad set name", "ad set", "gruppo di annunci", "grupo de anuncios", "группа объявлений", "nome gruppo di annunci", "conjunto de anuncios", "nombre del conjunto de anuncios", "gruppo di inserzioni", "название группы")),
        Column("impressions", I, "Impressions.", ("impressions", "impr", "impr.", "impressioni", "impresiones", "показы")),
        Column("clicks", I, "Clicks.", ("clicks", "link clicks", "clic", "clics", "клики", "clicks (all)", "clic sul link", "clics en el enlace", "клики по ссылке")),
        Column("cost", Kind.MONEY, "Cost in the account currency.",
               ("cost", "spend", "amount spent", "total spent", "costo", "spesa", "coste", "gasto", "importe gastado", "расход", "стоимость", "spend (usd)", "cost (converted currency)", "costo totale", "spesa totale", "importe gastado (eur)", "затраты", "amount spent (usd)")),
        Column("currency", S, "ISO 4217 currency of cost.", ("currency", "currency code", "valuta", "moneda", "валюта")),
        Column("conversions", Kind.DECIMAL, "Conversions the platform reports.", ("conversions", "conv.", "results", "leads", "conversioni", "conversiones", "конверсии", "all conv.", "risultati", "resultados", "результаты")),
    ),
)
