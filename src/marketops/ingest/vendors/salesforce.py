"""Salesforce report exports (Reports > Export > Details Only): leads, contacts, opportunities, activities.

Report exports use the field labels, with a few report-specific ones ("Company / Account" on lead
reports, "Amount Currency" in multi-currency orgs). Sources consulted:
- "Lead | Salesforce Field Reference Guide",
  https://developer.salesforce.com/docs/atlas.en-us.sfFieldRef.meta/sfFieldRef/salesforce_field_reference_Lead.htm
  (labels: Lead ID, First Name, Last Name, Company, Email, Lead Source, Lead Status, Mobile Phone, Created Date...).
- "Lead" table of the CData Salesforce connector, https://cdn.cdata.com/help/RFK/mcp/pg_table-lead.htm
  (Title, Street, City, State, PostalCode, Country, Phone, LeadSource, Status).
- "Task | Salesforce Field Reference Guide",
  https://developer.salesforce.com/docs/atlas.en-us.sfFieldRef.meta/sfFieldRef/salesforce_field_reference_Task.htm
  (labels: Activity ID, Assigned To, Call Result, Call Type (Inbound, Outbound, Internal), Subject,
  Last Modified Date), and OpenActivity (Date, Type: Call, Email, Meeting...; Activity Subtype).
- a parser of Salesforce "Tasks and Events" report exports in the code corpus reading "Assigned", "Date",
  "Company / Account", "Contact", "Lead", "Subject", "Priority", "Status", "Task", "Task Subtype".
Dates follow the exporting user's locale: "03/12/2024" (en_US), "12/03/2024" (it_IT, with ";" as the
delimiter and decimal commas when the locale uses them).

Example:
    >>> SALESFORCE_LEADS.headers["Company / Account"], SALESFORCE_ACTIVITIES.headers["Call Type"]
    ('company', 'direction')
"""

from marketops.ingest.vendors import VendorFormat

SALESFORCE_LEADS = VendorFormat(
    system="salesforce",
    name="salesforce_leads",
    entity="people",
    label="Salesforce leads report",
    headers={
        "Lead ID": "record_id",
        "First Name": "first_name",
        "Last Name": "last_name",
        "Title": "job_title",
        "Company / Account": "company",
        "Email": "email",
        "Phone": "phone",
        "Website": "website",
        "Street": "address",
        "City": "city",
        "State/Province": "region",
        "Zip/Postal Code": "postcode",
        "Country": "country",
        "Lead Source": "lead_source",
        "Lead Status": "lead_status",
        "Lead Owner": "owner",
        "Email Opt Out": "unsubscribed",
        "Create Date": "created_at",
        "Last Modified Date": "updated_at",
    },
    signature=frozenset({"Lead ID", "Company / Account", "Lead Source"}),
)

SALESFORCE_CONTACTS = VendorFormat(
    system="salesforce",
    name="salesforce_contacts",
    entity="people",
    label="Salesforce contacts report",
    headers={
        "Contact ID": "record_id",
        "First Name": "first_name",
        "Last Name": "last_name",
        "Title": "job_title",
        "Account Name": "company",
        "Account ID": "account_record_id",
        "Email": "email",
        "Phone": "phone",
        "Mailing City": "city",
        "Mailing State/Province": "region",
        "Mailing Country": "country",
        "Lead Source": "lead_source",
        "Contact Owner": "owner",
        "Email Opt Out": "unsubscribed",
        "Created Date": "created_at",
        "Last Modified Date": "updated_at",
    },
    signature=frozenset({"Contact ID", "Account Name", "Contact Owner"}),
)

SALESFORCE_OPPORTUNITIES = VendorFormat(
    system="salesforce",
    name="salesforce_opportunities",
    entity="opportunities",
    label="Salesforce opportunities report",
    headers={
        "Opportunity ID": "record_id",
        "Opportunity Name": "name",
        "Account ID": "account_record_id",
        "Account Name": "account_name",
        "Contact ID": "person_record_id",
        "Email": "email",
        "Amount": "amount",
        "Amount Currency": "currency",
        "Stage": "stage",
        "Opportunity Owner": "owner",
        "Lead Source": "lead_source",
        "Created Date": "created_at",
        "Close Date": "closed_at",
        "Won": "is_won",
        "Closed": "is_closed",
        "Last Modified Date": "updated_at",
    },
    signature=frozenset({"Opportunity ID", "Opportunity Name", "Stage"}),
)

SALESFORCE_ACTIVITIES = VendorFormat(
    system="salesforce",
    name="salesforce_activities",
    entity="sales_activities",
    label="Salesforce activities report (Tasks and Events)",
    headers={
        "Activity ID": "record_id",
        "Assigned": "owner",
        "Subject": "subject",
        # "Date" of a logged call or a meeting, with its time when the report shows it
        "Date": "occurred_at",
        # a report shows "Type" (Call, Email, Meeting) or "Task Subtype" (Call, Email, Task...)
        "Type": "type",
        "Task Subtype": "type",
        "Call Type": "direction",
        "Call Result": "outcome",
        # the person is a lead or a contact, depending on the report
        "Lead ID": "person_record_id",
        "Contact ID": "person_record_id",
        "Email": "email",
        "Account ID": "account_record_id",
        "Last Modified Date": "updated_at",
    },
    signature=frozenset({"Assigned", "Subject", "Date"}),
)

FORMATS = (SALESFORCE_LEADS, SALESFORCE_CONTACTS, SALESFORCE_OPPORTUNITIES, SALESFORCE_ACTIVITIES)
