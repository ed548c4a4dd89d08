"""HubSpot CRM exports: contacts, deals, companies and activities (Export, "All properties" off).

Header labels are the property labels HubSpot writes in its exports. Sources consulted:
- "HubSpot's default deal properties", https://knowledge.hubspot.com/crm-deals/hubspots-default-deal-properties
  (Deal Name, Deal Stage, Pipeline, Amount, Close Date, Deal owner, Create Date).
- "Use lifecycle stages", https://knowledge.hubspot.com/contacts/use-lifecycle-stages (Lifecycle Stage values).
- "HubSpot's default company properties", https://knowledge.hubspot.com/pl/companies/hubspot-crm-default-company-properties
  (Company Domain Name, Annual Revenue, Company owner, Number of Employees, Create Date).
- a contacts-export query in the code corpus selecting "First Name", "Last Name", "Associated Company ID",
  "Company Name", "Country/Region", "Contact owner", "Lifecycle Stage", "Lead Status", "Email",
  "Phone Number", "Website URL", "Original Source", "State/Region", "Create Date".
- "HubSpot's default activity properties", https://knowledge.hubspot.com/crm-setup/hubspots-default-activity-properties
  (Call direction: inbound or outbound; Call outcome: connected, left voicemail, no answer...).
- the activities export (CRM > Activities > Export) of a HubSpot portal: "Activity date", "Activity type"
  (Call, Email, Meeting, Note, Task...), "Activity assigned to" (the owner's name), "Call direction",
  "Call outcome", "Associated Contact" ("Name (email)"), "Associated Contact IDs", "Associated Company IDs".
HubSpot writes datetimes as "2024-03-12 14:03" in the portal's time zone and "Record ID" as the object id.

Example:
    >>> HUBSPOT_CONTACTS.headers["Record ID"], HUBSPOT_DEALS.entity, HUBSPOT_ACTIVITIES.headers["Call direction"]
    ('record_id', 'opportunities', 'direction')
"""

from marketops.ingest.vendors import VendorFormat

HUBSPOT_CONTACTS = VendorFormat(
    system="hubspot",
    name="hubspot_contacts",
    entity="people",
    label="HubSpot contacts export",
    headers={
        "Record ID": "record_id",
        "First Name": "first_name",
        "Last Name": "last_name",
        "Email": "email",
        "Phone Number": "phone",
        "Company Name": "company",
        "Job Title": "job_title",
        "Website URL": "website",
        "Country/Region": "country",
        "State/Region": "region",
        "City": "city",
        "Postal Code": "postcode",
        "Street Address": "address",
        "Lifecycle Stage": "lifecycle_stage",
        "Lead Status": "lead_status",
        "Original Source": "lead_source",
        "Contact owner": "owner",
        "Associated Company ID": "account_record_id",
        "Create Date": "created_at",
        "Last Modified Date": "updated_at",
        "Unsubscribed from all email": "unsubscribed",
    },
    signature=frozenset({"Record ID", "First Name", "Email", "Lifecycle Stage"}),
)

HUBSPOT_DEALS = VendorFormat(
    system="hubspot",
    name="hubspot_deals",
    entity="opportunities",
    label="HubSpot deals export",
    headers={
        "Record ID": "record_id",
        "Deal Name": "name",
        "Associated Company IDs": "account_record_id",
        "Associated Company": "account_name",
        "Associated Contact IDs": "person_record_id",
        "Amount": "amount",
        "Currency": "currency",
        "Deal Stage": "stage",
        "Pipeline": "pipeline",
        "Deal owner": "owner",
        "Original Source Type": "lead_source",
        "Create Date": "created_at",
        "Close Date": "closed_at",
        "Is Closed Won": "is_won",
        "Is closed": "is_closed",
        "Last Modified Date": "updated_at",
    },
    signature=frozenset({"Record ID", "Deal Name", "Deal Stage"}),
)

HUBSPOT_COMPANIES = VendorFormat(
    system="hubspot",
    name="hubspot_companies",
    entity="accounts",
    label="HubSpot companies export",
    headers={
        "Record ID": "record_id",
        "Company name": "name",
        "Company Domain Name": "domain",
        "Industry": "industry",
        "Number of Employees": "employees",
        "Annual Revenue": "annual_revenue",
        "Country/Region": "country",
        "City": "city",
        "Company owner": "owner",
        "Create Date": "created_at",
        "Last Modified Date": "updated_at",
    },
    signature=frozenset({"Record ID", "Company name", "Company Domain Name"}),
)

HUBSPOT_ACTIVITIES = VendorFormat(
    system="hubspot",
    name="hubspot_activities",
    entity="sales_activities",
    label="HubSpot activities export",
    headers={
        "Record ID": "record_id",
        "Activity date": "occurred_at",
        "Activity type": "type",
        "Activity assigned to": "owner",
        "Call direction": "direction",
        "Call outcome": "outcome",
        # "Associated Contact" ("Jane Doe (jane@acme.com)") is kept as a property: the ids link the person
        "Associated Contact IDs": "person_record_id",
        "Associated Company IDs": "account_record_id",
        "Last modified date": "updated_at",
    },
    signature=frozenset({"Activity date", "Activity type", "Activity assigned to"}),
)

FORMATS = (HUBSPOT_CONTACTS, HUBSPOT_DEALS, HUBSPOT_COMPANIES, HUBSPOT_ACTIVITIES)
