"""The harm matrix's rules: incidents, scoring settings, names, explanations. No framework imports.

The matrix ranks perpetrators by Recency, Frequency, Gravity and Victims (RFGV) plus escalation.
It supports human decisions and decides nothing: every number it shows comes with the words that
explain it, so an analyst can check it against the records.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, fields
from datetime import date
from enum import StrEnum

from vigil.errors import ErrorCollector

INCIDENT_COLUMNS: tuple[str, ...] = (
    "incident_ref",
    "occurred_at",
    "force",
    "offence",
    "offence_group",
    "domestic_abuse",
    "stalking",
    "sexual",
    "suspect_id",
    "suspect_name",
    "suspect_dob",
    "victim_id",
    "victim_name",
    "victim_dob",
    "injury",
    "weapon",
)
REQUIRED_COLUMNS: tuple[str, ...] = ("incident_ref", "occurred_at", "force", "offence_group")
FLAG_COLUMNS: tuple[str, ...] = ("domestic_abuse", "stalking", "sexual", "injury", "weapon")
RANKING_COLUMNS: tuple[str, ...] = (
    "rank",
    "person_id",
    "score",
    "recency_days",
    "frequency",
    "gravity",
    "victims",
    "serial",
    "escalating",
    "explanation",
)
TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0", ""})
MAX_TEXT = 200


class PartyRole(StrEnum):
    """Which side of an incident an identity is on."""

    SUSPECT = "suspect"
    VICTIM = "victim"


class LinkReason(StrEnum):
    """Why two records were judged to be the same person."""

    ONLY_RECORD = "only_record"
    SAME_ID = "same_id"
    EXACT_NAME_DOB = "exact_name_dob"
    FUZZY_NAME_DOB = "fuzzy_name_dob"
    PROBABLE_MATCH = "probable_match"
    MANUAL_MERGE = "manual_merge"
    MANUAL_SPLIT = "manual_split"
    REGISTRY = "registry"


# Link reasons by number, for the frames that carry them as small integers.
LINK_REASON_CODES: tuple[LinkReason, ...] = tuple(LinkReason)


class DecisionKind(StrEnum):
    MERGE = "merge"
    SPLIT = "split"


class Tactic(StrEnum):
    """MATAC tactics for a selected perpetrator."""

    SUPPORT = "support"
    DIVERSION = "diversion"
    DISRUPTION = "disruption"
    ENFORCEMENT = "enforcement"


class ReviewStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Band(StrEnum):
    VERY_HIGH = "very_high"
    HIGH = "high"
    MEDIUM = "medium"
    STANDARD = "standard"


BAND_LABELS: dict[Band, str] = {
    Band.VERY_HIGH: "Very high",
    Band.HIGH: "High",
    Band.MEDIUM: "Medium",
    Band.STANDARD: "Standard",
}


class Movement(StrEnum):
    """How a person's place changed between two stored runs."""

    NEW = "new"
    RISEN = "risen"
    FALLEN = "fallen"
    SAME = "same"
    DROPPED_OUT = "dropped_out"


def movement(had_previous_run: bool, was: int | None, rank: int) -> Movement:
    """How a place moved: ``was`` is the rank in the run before (None: not ranked then)."""
    if not had_previous_run:
        return Movement.SAME
    if was is None:
        return Movement.NEW
    if rank < was:
        return Movement.RISEN
    return Movement.FALLEN if rank > was else Movement.SAME


@dataclass(frozen=True)
class ScoringConfig:
    """Windows, weights and bands of the combined score; every value is documented in the docs.

    Each component is turned into a number between 0 and 1, the weighted mean is scaled to 0..100
    and the escalation weight is added on top for an escalating perpetrator (capped at 100).
    """

    frequency_window_days: int = 365
    gravity_window_days: int = 1095
    victims_window_days: int = 1095
    recency_half_life_days: float = 90.0
    frequency_cap: int = 10
    gravity_cap_days: float = 5475.0
    victims_cap: int = 5
    serial_victims: int = 2
    escalation_incidents: int = 5
    escalation_min_incidents: int = 3
    weight_recency: float = 1.0
    weight_frequency: float = 1.0
    weight_gravity: float = 2.0
    weight_victims: float = 1.0
    weight_escalation: float = 10.0
    band_very_high: float = 70.0
    band_high: float = 50.0
    band_medium: float = 30.0

    def check(self) -> None:
        errors = ErrorCollector()
        for name in (
            "frequency_window_days",
            "gravity_window_days",
            "victims_window_days",
            "frequency_cap",
            "victims_cap",
            "serial_victims",
            "escalation_incidents",
        ):
            errors.check(getattr(self, name) >= 1, name, "must be at least 1")
        errors.check(self.recency_half_life_days > 0, "recency_half_life_days", "must be > 0")
        errors.check(self.gravity_cap_days > 0, "gravity_cap_days", "must be > 0")
        errors.check(
            2 <= self.escalation_min_incidents <= self.escalation_incidents,
            "escalation_min_incidents",
            "must be between 2 and escalation_incidents",
        )
        weights = ("weight_recency", "weight_frequency", "weight_gravity", "weight_victims")
        for name in (*weights, "weight_escalation"):
            errors.check(getattr(self, name) >= 0, name, "must not be negative")
        errors.check(
            sum(getattr(self, name) for name in weights) > 0,
            "weight_recency",
            "at least one of the recency, frequency, gravity and victims weights must be > 0",
        )
        errors.check(
            self.band_very_high >= self.band_high >= self.band_medium >= 0,
            "band_very_high",
            "bands must be ordered very high ≥ high ≥ medium ≥ 0",
        )
        errors.raise_if_any()

    @property
    def lookback_days(self) -> int:
        return max(self.frequency_window_days, self.gravity_window_days, self.victims_window_days)

    def as_dict(self) -> dict[str, float | int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, values: dict[str, object]) -> ScoringConfig:
        known = {f.name: f.type for f in fields(cls)}
        errors = ErrorCollector()
        kwargs: dict[str, float | int] = {}
        for name, raw in values.items():
            if name not in known:
                errors.add(name, "is not a scoring setting")
                continue
            try:
                number = float(str(raw))
            except ValueError:
                errors.add(name, "must be a number")
                continue
            is_int = isinstance(getattr(cls(), name), int)
            if is_int and not number.is_integer():
                errors.add(name, "must be a whole number")
                continue
            kwargs[name] = int(number) if is_int else number
        errors.raise_if_any()
        config = cls(**kwargs)  # type: ignore[arg-type]
        config.check()
        return config

    def band(self, score: float) -> Band:
        if score >= self.band_very_high:
            return Band.VERY_HIGH
        if score >= self.band_high:
            return Band.HIGH
        if score >= self.band_medium:
            return Band.MEDIUM
        return Band.STANDARD


# --- names -------------------------------------------------------------------------------------

# Common English nicknames and short forms, mapped to one canonical given name. Small on purpose:
# it covers the forms seen most often in police records; an analyst's manual merge covers the rest.
NICKNAMES: dict[str, str] = {
    "bob": "robert",
    "bobby": "robert",
    "rob": "robert",
    "robbie": "robert",
    "bert": "robert",
    "bill": "william",
    "billy": "william",
    "will": "william",
    "willie": "william",
    "liam": "william",
    "liz": "elizabeth",
    "lizzie": "elizabeth",
    "beth": "elizabeth",
    "betty": "elizabeth",
    "eliza": "elizabeth",
    "libby": "elizabeth",
    "jim": "james",
    "jimmy": "james",
    "jamie": "james",
    "jack": "john",
    "johnny": "john",
    "jon": "john",
    "mike": "michael",
    "mick": "michael",
    "micky": "michael",
    "mickey": "michael",
    "dave": "david",
    "davey": "david",
    "dai": "david",
    "steve": "stephen",
    "steven": "stephen",
    "stevie": "stephen",
    "tony": "anthony",
    "ant": "anthony",
    "chris": "christopher",
    "kit": "christopher",
    "tom": "thomas",
    "tommy": "thomas",
    "dan": "daniel",
    "danny": "daniel",
    "matt": "matthew",
    "andy": "andrew",
    "drew": "andrew",
    "joe": "joseph",
    "joey": "joseph",
    "nick": "nicholas",
    "rich": "richard",
    "rick": "richard",
    "ricky": "richard",
    "dick": "richard",
    "ben": "benjamin",
    "sam": "samuel",
    "charlie": "charles",
    "chas": "charles",
    "chuck": "charles",
    "ed": "edward",
    "eddie": "edward",
    "ted": "edward",
    "ned": "edward",
    "pete": "peter",
    "phil": "philip",
    "ron": "ronald",
    "ronnie": "ronald",
    "ray": "raymond",
    "ken": "kenneth",
    "kenny": "kenneth",
    "greg": "gregory",
    "jeff": "jeffrey",
    "geoff": "geoffrey",
    "alex": "alexander",
    "sandy": "alexander",
    "harry": "henry",
    "hal": "henry",
    "fred": "frederick",
    "freddie": "frederick",
    "gaz": "gary",
    "lee": "leigh",
    "kate": "katherine",
    "katie": "katherine",
    "kathy": "katherine",
    "cathy": "katherine",
    "catherine": "katherine",
    "kathryn": "katherine",
    "kat": "katherine",
    "sue": "susan",
    "susie": "susan",
    "jen": "jennifer",
    "jenny": "jennifer",
    "jess": "jessica",
    "jessie": "jessica",
    "vicky": "victoria",
    "vicki": "victoria",
    "tori": "victoria",
    "becky": "rebecca",
    "becca": "rebecca",
    "maggie": "margaret",
    "meg": "margaret",
    "peggy": "margaret",
    "mags": "margaret",
    "debbie": "deborah",
    "deb": "deborah",
    "sally": "sarah",
    "sara": "sarah",
    "mandy": "amanda",
    "pam": "pamela",
    "trish": "patricia",
    "patty": "patricia",
    "pat": "patricia",
    "nicky": "nicola",
    "nikki": "nicola",
    "steph": "stephanie",
    "abby": "abigail",
    "gabby": "gabrielle",
    "mo": "mohammed",
    "mohammad": "mohammed",
    "muhammad": "mohammed",
    "mohamed": "mohammed",
}

_NON_LETTERS = re.compile(r"[^a-z\s'-]")
_SPACES = re.compile(r"[\s'-]+")


def normalise_name(value: str) -> str:
    """Lower case, accents folded, punctuation dropped, single spaces."""
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode().lower()
    return _SPACES.sub(" ", _NON_LETTERS.sub(" ", folded)).strip()


def split_name(value: str) -> tuple[str, str]:
    """(given, family) from "Given Middle Family" or "FAMILY, Given"."""
    if "," in value:
        family, _, given = value.partition(",")
        value = f"{given} {family}"
    tokens = normalise_name(value).split()
    if not tokens:
        return "", ""
    if len(tokens) == 1:
        return "", tokens[0]
    return tokens[0], tokens[-1]


def canonical_given(name: str) -> str:
    return NICKNAMES.get(name, name)


# --- dates ---------------------------------------------------------------------------------------


def dob_similarity(a: date | None, b: date | None) -> tuple[float, str]:
    """1.0 identical, 0.9 day/month transposed, 0.8 one part differs by a typo, else 0."""
    if a is None or b is None:
        return 0.0, "no date of birth"
    if a == b:
        return 1.0, "same date of birth"
    if a.year == b.year and a.day == b.month and a.month == b.day:
        return 0.9, "day and month transposed"
    same = (a.year == b.year) + (a.month == b.month) + (a.day == b.day)
    if same == 2:
        return 0.8, "date of birth differs in one part"
    return 0.0, "different date of birth"


# --- explanations --------------------------------------------------------------------------------


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural or word + 's')}"


NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
# How explanations name an offence subgroup ("one rape and two assaults with injury").
GROUP_PHRASES: dict[str, tuple[str, str]] = {
    "homicide": ("homicide", "homicides"),
    "rape": ("rape", "rapes"),
    "violence with injury": ("assault with injury", "assaults with injury"),
    "violence without injury": ("assault without injury", "assaults without injury"),
    "stalking and harassment": (
        "stalking or harassment offence",
        "stalking or harassment offences",
    ),
    "other sexual offences": ("other sexual offence", "other sexual offences"),
    "public order": ("public order offence", "public order offences"),
    "criminal damage": ("criminal damage", "criminal damages"),
    "residential burglary": ("burglary of a home", "burglaries of homes"),
    "robbery": ("robbery", "robberies"),
    "possession of weapons": ("weapon possession offence", "weapon possession offences"),
    "arson": ("arson", "arsons"),
}


def _count_phrase(count: int, group: str) -> str:
    singular, plural = GROUP_PHRASES.get(group.lower(), (f"{group} offence", f"{group} offences"))
    number = NUMBER_WORDS[count] if count < len(NUMBER_WORDS) else str(count)
    return f"{number} {singular if count == 1 else plural}"


@dataclass(frozen=True)
class Components:
    """One perpetrator's RFGV components as of a date, and what they rest on."""

    person_id: str
    recency_days: int
    frequency: int
    gravity: float
    victims: int
    serial: bool
    escalating: bool
    score: float
    domestic_in_window: int = 0
    incidents_in_gravity_window: int = 0
    # (offence subgroup, incidents, harm days) in the gravity window, most harmful first.
    harm_by_group: tuple[tuple[str, int, float], ...] = field(default_factory=tuple)


def explain(c: Components, config: ScoringConfig) -> str:
    """A plain-language sentence naming every component, e.g. for the MATAC meeting."""
    months = round(config.frequency_window_days / 30.4)
    window = f"{months} months" if months != 12 else "12 months"
    years = round(config.victims_window_days / 365)
    victims_window = f"{years} years" if years != 1 else "12 months"
    kind = "incidents"
    if c.frequency and c.domestic_in_window == c.frequency:
        kind = "domestic-abuse incidents"
    frequency = (
        f"{c.frequency} {kind if c.frequency != 1 else kind[:-1]} in {window}"
        if c.frequency
        else f"no incidents in {window}"
    )
    if c.frequency and 0 < c.domestic_in_window < c.frequency:
        frequency += f" ({c.domestic_in_window} domestic abuse)"
    victims = f"against {_plural(c.victims, 'victim')} in {victims_window}"
    if c.serial:
        victims += " (serial)"
    last = "last today" if c.recency_days == 0 else f"last {_plural(c.recency_days, 'day')} ago"
    gravity_years = round(config.gravity_window_days / 365)
    harm_window = f"{gravity_years} years" if gravity_years != 1 else "12 months"
    harm = f"harm {c.gravity:,.0f} days in {harm_window}"
    if c.harm_by_group:
        top = [g for g in c.harm_by_group if g[2] > 0][:3] or list(c.harm_by_group[:1])
        parts = [_count_phrase(count, group) for group, count, _ in top]
        joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        harm += f", mostly {joined}" if len(c.harm_by_group) > len(top) else f", from {joined}"
    escalation = "escalating" if c.escalating else "not escalating"
    return f"{frequency} {victims}; {last}; {harm}; {escalation}."
