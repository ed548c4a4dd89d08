"""The dirt real exports carry: case and typo differences, nicknames, phone formats, junk values.

Each function takes clean values plus a random generator and returns what one system would
have stored. The rates are small on purpose: most records are fine, a few are not.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> phone_international(np.array([39]), np.array([12]), np.array([12345678]))
    ['+39 312 234 5678']
    >>> phone_salesforce(rng, np.array([39]), np.array([12]), np.array([12345678]))[0] in (
    ...     '003931223456', '0039 3122345678', '312 2345678', '+39-312-2345678', '+393122345678')
    True
"""

from __future__ import annotations

import numpy as np

from marketops.sample import world

_JUNK_PHONES = ("123", "0000000000", "n/a", "+1 555 555 5555 ext 99999999", "999999999999999999")


def typo(word: str, k: int) -> str:
    """A plausible typing slip chosen by ``k``: a dropped, doubled or swapped letter."""
    if len(word) < 4:
        return word
    i = 1 + k % (len(word) - 2)
    kind = (k // 7) % 3
    if kind == 0:
        return word[:i] + word[i + 1:]
    if kind == 1:
        return word[:i] + word[i] + word[i:]
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def mess_names(rng: np.random.Generator, names: list[str], *, upper: float, lower: float, typos: float,
               nicknames: float = 0.0) -> list[str]:
    """Names as hand-typed into one system: SHOUTED, lower-cased, misspelt or shortened."""
    u = rng.random(len(names))
    k = rng.integers(0, 1 << 20, len(names)).tolist()
    out = []
    a, b, c = upper, upper + lower, upper + lower + typos
    for name, x, kk in zip(names, u.tolist(), k):
        if x < a:
            name = name.upper()
        elif x < b:
            name = name.lower()
        elif x < c:
            name = typo(name, kk)
        elif x < c + nicknames:
            name = world.NICKNAMES.get(name, name)
        out.append(name)
    return out


# Per dialling code: how the 2-digit area and 8-digit subscriber draws become a national
# number of the country's real length (mobile ranges, so libphonenumber accepts them), and the
# trunk prefix people type before it at home.
_NATIONAL = {
    1: lambda a, n: f"{a + 200:03d}{n % 10**7:07d}",   # US: 3-digit area code + 7 digits
    44: lambda a, n: f"7{a:02d}{n % 10**7:07d}",       # GB mobile: 7 + 9 digits
    39: lambda a, n: f"3{a:02d}{n % 10**7:07d}",       # IT mobile: 3 + 9 digits
    49: lambda a, n: f"15{a % 10}{n:08d}",             # DE mobile: 15x + 8 digits
    33: lambda a, n: f"{6 + a % 2}{n:08d}",            # FR mobile: 6/7 + 8 digits
    34: lambda a, n: f"{6 + a % 2}{n:08d}",            # ES mobile: 6/7 + 8 digits
}
_TRUNK = {1: "", 44: "0", 39: "", 49: "0", 33: "0", 34: ""}


def national_number(cc: int, area: int, number: int) -> str:
    """The national significant number of a sample phone.

    >>> national_number(33, 12, 12345678), national_number(1, 12, 12345678)
    ('612345678', '2122345678')
    """
    return _NATIONAL[cc](area, number)


def phone_e164(cc: np.ndarray, area: np.ndarray, number: np.ndarray) -> list[str]:
    """The true number in E.164 (what a clean record holds)."""
    return [f"+{c}{national_number(c, a, n)}" for c, a, n in zip(cc.tolist(), area.tolist(), number.tolist())]


def phone_international(cc: np.ndarray, area: np.ndarray, number: np.ndarray) -> list[str]:
    """The tidy "+39 312 345 6789" HubSpot keeps after its phone formatting."""
    out = []
    for c, a, n in zip(cc.tolist(), area.tolist(), number.tolist()):
        nsn = national_number(c, a, n)
        out.append(f"+{c} {nsn[:3]} {nsn[3:6]} {nsn[6:]}")
    return out


def phone_salesforce(rng: np.random.Generator, cc: np.ndarray, area: np.ndarray, number: np.ndarray) -> list[str]:
    """Phones as sales reps type them: 00-prefixed, national, dashed, and now and then a dropped digit."""
    style = rng.integers(0, 5, len(cc)).tolist()
    out = []
    for s, c, a, n in zip(style, cc.tolist(), area.tolist(), number.tolist()):
        nsn = national_number(c, a, n)
        if s == 0:
            out.append(f"00{c}{nsn}"[:-1])
        elif s == 1:
            out.append(f"00{c} {nsn}")
        elif s == 2:
            out.append(f"{_TRUNK[c]}{nsn[:3]} {nsn[3:]}")
        elif s == 3:
            out.append(f"+{c}-{nsn[:3]}-{nsn[3:]}")
        else:
            out.append(f"+{c}{nsn}")
    return out


def junk(rng: np.random.Generator, values: list[str], *, empty: float, na: float = 0.0,
         absurd: float = 0.0, absurd_values: tuple[str, ...] = _JUNK_PHONES) -> list[str]:
    """Blank out, "n/a" or replace a few values with nonsense."""
    u = rng.random(len(values)).tolist()
    pick = rng.integers(0, len(absurd_values), len(values)).tolist()
    out = []
    for v, x, p in zip(values, u, pick):
        if x < empty:
            v = ""
        elif x < empty + na:
            v = "n/a"
        elif x < empty + na + absurd:
            v = absurd_values[p]
        out.append(v)
    return out


def mess_case(rng: np.random.Generator, emails: list[str], rate: float) -> list[str]:
    """Emails typed with capitals ("John.Smith@Acme-Analytics.com"): same mailbox, different string."""
    u = rng.random(len(emails)).tolist()
    return [e.title() if x < rate else e for e, x in zip(emails, u)]


def bad_dates(rng: np.random.Generator, dates: list[str], rate: float, bad: tuple[str, ...]) -> list[str]:
    """Replace a few dates with impossible or placeholder ones ("31/02/2024", "n/a", "")."""
    u = rng.random(len(dates)).tolist()
    k = rng.integers(0, len(bad), len(dates)).tolist()
    return [bad[j] if x < rate else d for d, x, j in zip(dates, u, k)]
