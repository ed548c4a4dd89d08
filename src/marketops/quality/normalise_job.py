"""Job titles to (seniority, function) with keyword rules in English, Italian, Spanish and Russian.

Titles are matched on a loose key (casefolded, accents and punctuation removed), word by word;
a keyword ending in ``*`` matches any word starting with it (Russian endings: ``продаж*``).
Seniority takes the highest level found (``c_level`` > ``vp`` > ``director`` > ``manager`` >
``individual_contributor``), except that assistants and interns are individual contributors
whoever they assist. Function takes the first matching family in :data:`FUNCTION_RULES` order,
so "Marketing Operations Manager" is marketing and "Sales Engineer" is sales.
The clean ``value`` is the title with whitespace tidied; its case is kept.

Example:
    >>> t = job_title("Head of Growth")
    >>> t.value, t.seniority, t.function
    ('Head of Growth', 'director', 'marketing')
    >>> [(t.seniority, t.function) for t in map(job_title, ["CMO", "Director de Ventas", "Маркетолог"])]
    [('c_level', 'marketing'), ('director', 'sales'), ('individual_contributor', 'marketing')]
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from marketops.quality.normalise_base import (
    PLACEHOLDERS,
    Normalised,
    clean_text,
    match_key,
    normaliser,
    placeholder_key,
    reject,
)

SENIORITIES = ("c_level", "vp", "director", "manager", "individual_contributor", "unknown")
FUNCTIONS = ("marketing", "sales", "engineering", "finance", "operations", "hr", "it", "executive", "other")

# Checked before the levels: "Executive Assistant to the CEO" is not a CEO.
JUNIOR_OVERRIDES = (
    "assistant to", "executive assistant", "personal assistant", "intern", "internship", "trainee",
    "stagista", "tirocinante", "becario", "becaria", "practicante", "стажер", "стажёр", "ассистент",
    "помощник", "assistente", "asistente",
)
SENIORITY_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("c_level", (
        "ceo", "cmo", "cfo", "cto", "coo", "cio", "cro", "cso", "cpo", "cdo", "chro", "cco", "cgo", "cxo",
        "chief", "founder", "co founder", "cofounder", "owner", "president", "managing director",
        "general manager", "amministratore delegato", "direttore generale", "titolare", "fondatore",
        "presidente", "director general", "directora general", "consejero delegado", "fundador*",
        "propietario", "генеральный директор", "гендиректор", "основатель", "владелец", "президент",
        "учредитель",
    )),
    ("vp", (
        "vp", "svp", "evp", "avp", "vice president", "vicepresident", "vice presidente", "vicepresidente",
        "вице президент", "вицепрезидент",
    )),
    ("director", (
        "director", "directora", "head", "head of", "direttore", "direttrice", "dirigente", "jefe de area",
        "директор", "руководитель", "начальник отдела",
    )),
    ("manager", (
        "manager", "mgr", "lead", "team lead", "supervisor", "responsabile", "coordinatore",
        "coordinatrice", "gerente", "jefe", "jefa", "responsable", "encargado", "encargada",
        "менеджер", "начальник", "управляющий", "тимлид", "team leader",
    )),
    ("individual_contributor", (
        "engineer", "developer", "specialist", "analyst", "associate", "coordinator", "consultant",
        "representative", "rep", "executive", "designer", "writer", "strategist", "administrator",
        "accountant", "recruiter", "officer", "agent", "programmer", "scientist", "assistant",
        "ingegnere", "sviluppatore", "specialista", "analista", "consulente", "addetto", "addetta",
        "impiegato", "impiegata", "tecnico", "commerciale", "ingeniero", "ingeniera", "desarrollador*",
        "especialista", "consultor*", "tecnico", "ejecutivo", "ejecutiva", "vendedor*", "маркетолог",
        "специалист", "аналитик", "инженер", "разработчик", "программист", "бухгалтер", "консультант",
        "продавец", "дизайнер", "рекрутер", "эксперт",
    )),
)
FUNCTION_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("marketing", (
        "marketing", "cmo", "growth", "brand*", "demand gen*", "demand generation", "content", "seo",
        "sem", "ppc", "communications", "comms", "pr", "public relations", "social media", "digital",
        "campaign*", "product marketing", "lifecycle", "crm", "comunicazione", "mercadotecnia",
        "comunicacion", "маркетинг*", "маркетолог*", "smm", "контент*", "бренд*", "реклам*", "cgo",
    )),
    ("sales", (
        "sales", "cro", "revenue", "business development", "bdr", "sdr", "bdm", "account executive",
        "account manager", "key account", "commerciale", "vendite", "ventas", "venta", "comercial",
        "vendedor*", "продаж*", "продавец", "коммерческ*", "клиент*",
    )),
    ("engineering", (
        "engineer*", "engineering", "developer", "software", "cto", "devops", "r d", "programmer",
        "architect", "data scientist", "ingegner*", "sviluppat*", "ingenier*", "desarroll*",
        "programador", "разработ*", "инженер*", "программист*",
    )),
    ("finance", (
        "finance", "financial", "cfo", "accounting", "accountant", "controller", "controlling",
        "treasury", "finanza", "contabil*", "amministrazione", "finanzas", "financiero", "contador",
        "contable", "финанс*", "бухгалтер*", "казначей*",
    )),
    ("hr", (
        "hr", "chro", "human resources", "people", "talent", "recruit*", "risorse umane", "personale",
        "recursos humanos", "кадр*", "персонал*", "рекрут*",
    )),
    ("it", (
        "it", "cio", "information technology", "sysadmin", "system administrator", "systems administrator",
        "helpdesk", "help desk", "informatica", "sistemi informativi", "sistemas", "ит", "системный администратор",
        "сисадмин",
    )),
    ("operations", (
        "operations", "ops", "coo", "logistics", "supply chain", "procurement", "purchasing",
        "operazioni", "operaciones", "logistica", "acquisti", "compras", "операц*", "логист*", "закуп*",
    )),
    ("executive", (
        "ceo", "chief executive", "chief of staff", "founder", "co founder", "cofounder", "owner", "president", "managing director",
        "general manager", "amministratore delegato", "direttore generale", "titolare", "fondatore",
        "director general", "consejero delegado", "fundador*", "генеральный директор", "гендиректор",
        "основатель", "владелец", "учредитель",
    )),
)
TITLE_PLACEHOLDERS = PLACEHOLDERS | {"title", "job title", "other", "altro", "otro", "другое"}


@dataclass(frozen=True)
class JobTitle(Normalised):
    """A normalised job title with its ``seniority`` and ``function``."""

    seniority: str = "unknown"
    function: str = "other"


@functools.cache
def _pattern(keywords: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = []
    for keyword in sorted(keywords, key=len, reverse=True):
        stem = match_key(keyword.rstrip("*"))
        tail = r"\w*" if keyword.endswith("*") else ""
        alternatives.append(re.escape(stem).replace(r"\ ", " ") + tail)
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")


def classify_title(title: str) -> tuple[str, str]:
    """(seniority, function) of a job title; ("unknown", "other") when no rule matches.

    >>> classify_title("Responsabile Marketing"), classify_title("Software Engineer")
    (('manager', 'marketing'), ('individual_contributor', 'engineering'))
    """
    key = match_key(title)
    if _pattern(JUNIOR_OVERRIDES).search(key):
        seniority = "individual_contributor"
    else:
        seniority = next((level for level, words in SENIORITY_RULES if _pattern(words).search(key)), "unknown")
    function = next((family for family, words in FUNCTION_RULES if _pattern(words).search(key)), "other")
    if function == "other" and seniority == "c_level":
        function = "executive"  # "President", "Chief Whatever Officer": the leadership team
    return seniority, function


@normaliser(cls=JobTitle)
def job_title(value: object) -> JobTitle:
    """Normalise a job title and classify it (see the module docstring).

    >>> job_title("  Chief   Marketing Officer ")
    JobTitle(value='Chief Marketing Officer', flags=(), reason=None, seniority='c_level', function='marketing')
    >>> job_title("n/a").reason
    'a placeholder, not a job title'
    """
    text = clean_text(value).strip(" ,;")
    if placeholder_key(text) in TITLE_PLACEHOLDERS:
        return reject("a placeholder, not a job title", "placeholder", cls=JobTitle)
    if not any(ch.isalpha() for ch in text):
        return reject("contains no letters", "invalid_title", cls=JobTitle)
    seniority, function = classify_title(text)
    flags = ("unclassified",) if seniority == "unknown" and function == "other" else ()
    return JobTitle(text, flags, None, seniority=seniority, function=function)
