"""Common nicknames and short forms of given names, so "Bob" can match "Robert".

The table maps a lower-case nickname to the lower-case given name it usually stands for. It is
deliberately conservative: a short form that stands for several unrelated names ("Chris",
"Sam", "Alex" for women and men alike) maps to the most common one only when a false match would
still need the surname, company and phone to agree; identity resolution treats a nickname match
as weaker evidence than the same spelling.

Example:
    >>> given_name("Bob"), given_name("Beppe"), given_name("Anna")
    ('robert', 'giuseppe', 'anna')
"""

from __future__ import annotations

_GROUPS: dict[str, tuple[str, ...]] = {
    # English
    "alexander": ("alex", "alec", "sandy", "xander"),
    "alexandra": ("alexa", "sandra", "lexi"),
    "andrew": ("andy", "drew"),
    "anthony": ("tony", "ant"),
    "benjamin": ("ben", "benny", "benji"),
    "charles": ("charlie", "chuck", "chas"),
    "christopher": ("chris", "kit", "topher"),
    "christine": ("chrissy", "tina"),
    "daniel": ("dan", "danny"),
    "david": ("dave", "davy"),
    "deborah": ("deb", "debbie"),
    "edward": ("ed", "eddie", "ted", "ned"),
    "elizabeth": ("liz", "lizzie", "beth", "betty", "eliza", "betsy"),
    "frederick": ("fred", "freddie"),
    "gregory": ("greg",),
    "james": ("jim", "jimmy", "jamie"),
    "jennifer": ("jen", "jenny"),
    "john": ("jon", "johnny", "jack"),
    "jonathan": ("jonny",),
    "joseph": ("joe", "joey"),
    "katherine": ("kate", "kathy", "katie", "kat", "kathryn", "catherine", "cathy"),
    "kenneth": ("ken", "kenny"),
    "lawrence": ("larry",),
    "margaret": ("maggie", "meg", "peggy", "marge"),
    "matthew": ("matt",),
    "michael": ("mike", "mick", "mikey"),
    "nicholas": ("nick", "nicky"),
    "patricia": ("pat", "patty", "trish"),
    "patrick": ("paddy",),
    "peter": ("pete",),
    "rebecca": ("becky", "becca"),
    "richard": ("rick", "rich", "dick", "ricky"),
    "robert": ("bob", "rob", "bobby", "robbie", "bert"),
    "samuel": ("sam", "sammy"),
    "stephen": ("steve", "steven", "stevie"),
    "susan": ("sue", "susie"),
    "thomas": ("tom", "tommy"),
    "timothy": ("tim", "timmy"),
    "victoria": ("vicky", "tori"),
    "william": ("bill", "will", "billy", "willie", "liam"),
    # Italian
    "alessandro": ("ale", "sandro"),
    "antonio": ("toni", "totò"),
    "francesca": ("fra", "franci", "checca"),
    "francesco": ("franco", "cecco", "ciccio"),
    "giovanni": ("gianni", "nino", "vanni"),
    "giuseppe": ("beppe", "peppe", "pino", "bepi"),
    "matteo": ("teo",),
    "salvatore": ("totò", "turi"),
    "vincenzo": ("enzo",),
    # Spanish
    "francisco": ("paco", "pancho", "curro"),
    "guadalupe": ("lupe",),
    "ignacio": ("nacho",),
    "jesús": ("chucho", "chus"),
    "josé": ("pepe",),
    "manuel": ("manolo",),
    "dolores": ("lola",),
    "enrique": ("quique",),
    # German and French
    "johannes": ("hans", "jo"),
    "wolfgang": ("wolf",),
    "friedrich": ("fritz",),
    "maximilian": ("max",),
    "jean-baptiste": ("jb",),
    "guillaume": ("guigui",),
    # Russian
    "aleksandr": ("sasha", "sanya", "shura"),
    "dmitry": ("dima",),
    "ekaterina": ("katya",),
    "mikhail": ("misha",),
    "vladimir": ("vova", "volodya"),
    "yekaterina": ("katya",),
}

#: nickname -> given name, both lower case
NICKNAMES: dict[str, str] = {}
for _given, _short in _GROUPS.items():
    for _nick in _short:
        NICKNAMES.setdefault(_nick, _given)


def given_name(first_name: str | None) -> str | None:
    """The lower-case given name a first name (or nickname) stands for."""
    if first_name is None:
        return None
    key = first_name.strip().lower()
    return NICKNAMES.get(key, key)
