"""The canonical model: one module per noun, gathered here in the order the pipeline builds them.

Example:
    >>> from marketops.schema import ENTITIES, entity
    >>> entity("ad_spend").key_columns
    ['platform', 'date', 'campaign_id', 'campaign', 'ad_group_id', 'ad_group']
"""

from marketops.errors import unknown_name
from marketops.schema.accounts import ACCOUNTS
from marketops.schema.base import LINEAGE, PROPERTIES, Cleaning, Column, Entity, Kind
from marketops.schema.consent import CONSENT
from marketops.schema.conversions import CONVERSIONS
from marketops.schema.email import EMAIL_CAMPAIGNS
from marketops.schema.lifecycle import LIFECYCLE_STAGES
from marketops.schema.opportunities import OPPORTUNITIES
from marketops.schema.people import PEOPLE
from marketops.schema.rates import EXCHANGE_RATES
from marketops.schema.sales_activities import ACTIVITY_TYPES, SALES_ACTIVITIES
from marketops.schema.spend import AD_SPEND
from marketops.schema.touchpoints import TOUCHPOINT_TYPES, TOUCHPOINTS
from marketops.schema.traffic import WEB_TRAFFIC

ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (PEOPLE, ACCOUNTS, TOUCHPOINTS, CONVERSIONS, AD_SPEND, EMAIL_CAMPAIGNS, OPPORTUNITIES,
              LIFECYCLE_STAGES, SALES_ACTIVITIES, WEB_TRAFFIC, EXCHANGE_RATES, CONSENT)
}


def entity(name: str) -> Entity:
    """The entity called ``name``, or an error naming the valid ones."""
    try:
        return ENTITIES[name]
    except KeyError:
        raise unknown_name("entity", name, ENTITIES) from None


__all__ = ["ACTIVITY_TYPES", "ENTITIES", "LINEAGE", "PROPERTIES", "TOUCHPOINT_TYPES", "Cleaning", "Column", "Entity", "Kind", "entity"]
