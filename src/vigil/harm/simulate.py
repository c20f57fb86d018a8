"""A documented simulator of police incident histories, for the demo, the tests and the bench.

Model (all parameters in ``SimulationSpec``):

* Each perpetrator has an offending *career* (start uniform over the period and the two years
  before it, length exponential with mean ``career_years_mean``), an offending *rate* (lognormal,
  sigma ``rate_sigma``) and a *dangerousness* ``d`` (lognormal, correlated with the rate by
  ``rate_danger_correlation``). Incidents arrive as a Poisson process over the career.
* Each incident's offence subgroup is drawn from a mix whose serious part (rape, violence with
  injury, other sexual offences, homicide) grows with ``d``; a share ``escalator_share`` of the most
  dangerous also get more serious over their career. Because serious offences are rare and their
  harm is hundreds of times larger, a few percent of perpetrators cause most of the harm (the
  concentration reported in docs/harm-matrix.md is measured on this simulator, not assumed).
* Each perpetrator has a pool of victims that grows with ``d`` (serial perpetrators); each
  incident picks a victim, newer victims more often later in the career.
* Records are written by different officers: a share ``suspect_id_share`` carries the suspect's
  police id; the rest only a name and date of birth, of which a share ``messy_share`` is messy —
  a misspelling, first and last name swapped, a nickname, or day and month transposed. Victims
  likewise. The true perpetrator is kept in the extra column ``sim_person`` so resolution can be
  measured against it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import polars as pl

from vigil.harm.model import NICKNAMES
from vigil.harm.simulated_names import FAMILY, GIVEN_FEMALE, GIVEN_MALE

WEST_AND_EAST_MIDLANDS = ("WMP", "WAR", "STA", "WMC", "NOT", "LEI", "DER", "LIN", "NTH")
# (subgroup, offence, base weight, weight per unit of dangerousness); most incidents are minor.
OFFENCE_MIX: tuple[tuple[str, str, float, float], ...] = (
    ("Violence without injury", "Common assault", 0.40, 0.00),
    ("Stalking and harassment", "Harassment", 0.14, 0.02),
    ("Public order", "Threatening behaviour", 0.16, 0.00),
    ("Criminal damage", "Criminal damage to a dwelling", 0.14, 0.00),
    ("Violence with injury", "Assault occasioning actual bodily harm", 0.004, 0.05),
    ("Other sexual offences", "Sexual assault", 0.001, 0.02),
    ("Rape", "Rape of a female aged 16 or over", 0.0001, 0.03),
    ("Residential burglary", "Burglary of a dwelling", 0.02, 0.01),
    ("Possession of weapons", "Possession of a knife in public", 0.004, 0.01),
    ("Arson", "Arson endangering life", 0.001, 0.004),
    ("Homicide", "Murder", 0.0, 0.0006),
)
_REVERSE_NICKNAMES: dict[str, list[str]] = {}
for _nick, _full in NICKNAMES.items():
    _REVERSE_NICKNAMES.setdefault(_full, []).append(_nick)


@dataclass(frozen=True)
class SimulationSpec:
    perpetrators: int = 2_000
    start: date = date(2021, 1, 1)
    end: date = date(2025, 12, 31)
    incidents_per_perpetrator: float = 3.3
    forces: tuple[str, ...] = WEST_AND_EAST_MIDLANDS
    career_years_mean: float = 4.0
    rate_sigma: float = 1.0
    danger_sigma: float = 2.6
    rate_danger_correlation: float = 0.6
    escalator_share: float = 0.3
    suspect_id_share: float = 0.7
    victim_id_share: float = 0.4
    messy_share: float = 0.25
    away_force_share: float = 0.1
    seed: int = 7


def _misspell(rng: np.random.Generator, name: str) -> str:
    if len(name) < 4:
        return name + name[-1]
    i = int(rng.integers(1, len(name) - 1))
    kind = int(rng.integers(0, 3))
    if kind == 0:  # adjacent letters swapped
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    if kind == 1:  # a letter dropped
        return name[:i] + name[i + 1 :]
    return name[:i] + name[i] + name[i:]  # a letter doubled


def _messy(rng: np.random.Generator, given: str, family: str, dob: date) -> tuple[str, str, date]:
    kind = int(rng.integers(0, 4))
    if kind == 0:
        if rng.random() < 0.5:
            return _misspell(rng, given), family, dob
        return given, _misspell(rng, family), dob
    if kind == 1:
        return family, given, dob  # written "Family Given"
    if kind == 2 and given in _REVERSE_NICKNAMES:
        options = _REVERSE_NICKNAMES[given]
        return options[int(rng.integers(0, len(options)))], family, dob
    if dob.day <= 12 and dob.day != dob.month:
        return given, family, date(dob.year, dob.day, dob.month)
    return _misspell(rng, family), given, dob


def _dobs(rng: np.random.Generator, n: int, first_year: int, last_year: int) -> np.ndarray:
    start = np.datetime64(f"{first_year}-01-01")
    span = (np.datetime64(f"{last_year}-12-31") - start).astype(int)
    result: np.ndarray = start + rng.integers(0, span, n).astype("timedelta64[D]")
    return result


@dataclass(frozen=True)
class _Careers:
    """Each incident's perpetrator and day, and each perpetrator's dangerousness."""

    person: npt.NDArray[np.int64]
    day: npt.NDArray[np.int64]
    progress: npt.NDArray[np.float64]  # how far into the career, 0..1 (for escalation)
    danger: npt.NDArray[np.float64]

    @property
    def total(self) -> int:
        return int(self.person.shape[0])


@dataclass(frozen=True)
class _People:
    given: npt.NDArray[np.str_]
    family: npt.NDArray[np.str_]
    dob: npt.NDArray[np.datetime64]


def simulate(spec: SimulationSpec) -> pl.DataFrame:
    """Incidents with the import columns (as text, like a CSV) plus ``sim_person``."""
    # The draws happen in one fixed order, so a seed always gives the same incidents.
    rng = np.random.default_rng(spec.seed)
    careers = _careers(rng, spec)
    person, total = careers.person, careers.total
    groups, offences = _offences(rng, spec, careers)
    victim, n_victims = _victims(rng, careers)
    suspects = _people(rng, spec.perpetrators, GIVEN_MALE, (1960, 2004))
    s_pnc = _police_ids(rng, spec.perpetrators)
    victims = _people(rng, n_victims, GIVEN_FEMALE, (1960, 2008))
    v_ids = np.char.add("V", np.char.zfill(np.arange(n_victims).astype(str), 8))
    forces = _forces(rng, spec, careers)
    occurred = _moments(rng, spec, careers)
    has_sid = rng.random(total) < spec.suspect_id_share
    has_vid = rng.random(total) < spec.victim_id_share
    messy_s = (~has_sid) & (rng.random(total) < spec.messy_share)
    messy_v = (~has_vid) & (rng.random(total) < spec.messy_share)
    s_names, s_dobs = _as_written(rng, suspects, person, messy_s)
    v_names, v_dobs = _as_written(rng, victims, victim, messy_v)
    sexual = np.isin(groups, ["Rape", "Other sexual offences"])
    return pl.DataFrame(
        {
            "incident_ref": np.char.add(
                f"SIM-{spec.seed}-", np.char.zfill(np.arange(total).astype(str), 8)
            ),
            "occurred_at": occurred.astype(str),
            "force": forces.astype(str),
            "offence": offences.astype(str),
            "offence_group": groups.astype(str),
            "domestic_abuse": np.where(rng.random(total) < 0.92, "true", "false"),
            "stalking": np.where(groups == "Stalking and harassment", "true", "false"),
            "sexual": np.where(sexual, "true", "false"),
            "suspect_id": np.where(has_sid, s_pnc[person], ""),
            "suspect_name": s_names.astype(str),
            "suspect_dob": s_dobs.astype(str),
            "victim_id": np.where(has_vid, v_ids[victim], ""),
            "victim_name": v_names.astype(str),
            "victim_dob": v_dobs.astype(str),
            "injury": np.where(
                np.isin(groups, ["Violence with injury", "Homicide"]), "true", "false"
            ),
            "weapon": np.where(
                (groups == "Possession of weapons") | (rng.random(total) < 0.03), "true", "false"
            ),
            "sim_person": person.astype(str),
        }
    )


def _careers(rng: np.random.Generator, spec: SimulationSpec) -> _Careers:
    """Careers, rates and dangerousness; incidents as a Poisson process over each career."""
    n = spec.perpetrators
    period_days = (spec.end - spec.start).days + 1
    z_rate = rng.standard_normal(n)
    z_danger = spec.rate_danger_correlation * z_rate + math.sqrt(
        1 - spec.rate_danger_correlation**2
    ) * rng.standard_normal(n)
    rate = np.exp(spec.rate_sigma * z_rate)
    danger = np.exp(spec.danger_sigma * z_danger - spec.danger_sigma**2 / 2)
    career_start = rng.integers(-730, period_days, n)
    career_len = np.maximum(30, rng.exponential(spec.career_years_mean * 365, n)).astype(int)
    lo = np.maximum(career_start, 0)
    hi = np.minimum(career_start + career_len, period_days)
    active = np.maximum(hi - lo, 0)
    expected = rate * active
    scale = spec.incidents_per_perpetrator * n / max(expected.sum(), 1.0)
    counts = rng.poisson(expected * scale)
    total = int(counts.sum())
    person = np.repeat(np.arange(n), counts)
    day = lo[person] + (rng.random(total) * np.maximum(active[person], 1)).astype(int)
    order = np.lexsort((day, person))
    person, day = person[order], day[order]
    progress = (day - lo[person]) / np.maximum(active[person], 1)
    return _Careers(person, day, progress, danger)


def _offences(
    rng: np.random.Generator, spec: SimulationSpec, careers: _Careers
) -> tuple[npt.NDArray[np.str_], npt.NDArray[np.str_]]:
    """Each incident's offence subgroup and offence, more serious with dangerousness (and, for
    the escalators, with the career's progress)."""
    danger, person = careers.danger, careers.person
    n = danger.shape[0]
    escalator = (danger > np.quantile(danger, 0.9)) & (rng.random(n) < spec.escalator_share * 3)
    d_eff = danger[person] * np.where(escalator[person], 0.2 + 2.4 * careers.progress, 1.0)
    base = np.array([m[2] for m in OFFENCE_MIX])
    slope = np.array([m[3] for m in OFFENCE_MIX])
    weights = base[None, :] + slope[None, :] * d_eff[:, None]
    cumulative = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    draw = rng.random(careers.total)[:, None]
    group_index = np.minimum((cumulative < draw).sum(axis=1), len(base) - 1)
    groups = np.array([m[0] for m in OFFENCE_MIX])[group_index]
    offences = np.array([m[1] for m in OFFENCE_MIX])[group_index]
    return groups, offences


def _victims(rng: np.random.Generator, careers: _Careers) -> tuple[npt.NDArray[np.int64], int]:
    """A pool of victims per perpetrator growing with dangerousness; later incidents, newer
    victims. Returns each incident's victim and how many victims there are."""
    person, progress = careers.person, careers.progress
    pool = 1 + rng.poisson(np.minimum(careers.danger, 8.0) * 0.6)
    victim_slot = np.minimum(
        (progress * pool[person] + rng.normal(0, 0.6, careers.total)).astype(int).clip(0),
        pool[person] - 1,
    )
    victim_offsets = np.concatenate([[0], np.cumsum(pool)[:-1]])
    return victim_offsets[person] + victim_slot, int(pool.sum())


def _people(
    rng: np.random.Generator, n: int, given_names: Sequence[str], born: tuple[int, int]
) -> _People:
    family = np.array(FAMILY)
    given = np.array(given_names)[rng.integers(0, len(given_names), n)]
    return _People(given, family[rng.integers(0, len(family), n)], _dobs(rng, n, *born))


def _police_ids(rng: np.random.Generator, n: int) -> npt.NDArray[np.str_]:
    """Police ids shaped like "23/0123456X": a year, a serial and a check letter."""
    serials = rng.choice(9_000_000, n, replace=False) + 100_000
    return np.char.add(
        np.char.add(np.char.zfill((rng.integers(90, 124, n) % 100).astype(str), 2), "/"),
        np.char.add(
            np.char.zfill(serials.astype(str), 7),
            np.array(list("ABCDEFGHJKLMNPQRSTUVWXYZ"))[serials % 24],
        ),
    )


def _forces(
    rng: np.random.Generator, spec: SimulationSpec, careers: _Careers
) -> npt.NDArray[np.str_]:
    """Each perpetrator's home force; a share of incidents happen in another force's area."""
    home = rng.integers(0, len(spec.forces), spec.perpetrators)
    force_index = np.where(
        rng.random(careers.total) < spec.away_force_share,
        rng.integers(0, len(spec.forces), careers.total),
        home[careers.person],
    )
    return np.array(spec.forces)[force_index]


def _moments(
    rng: np.random.Generator, spec: SimulationSpec, careers: _Careers
) -> npt.NDArray[np.str_]:
    seconds = rng.integers(0, 86_400, careers.total)
    moments = (
        np.datetime64(spec.start.isoformat(), "s")
        + careers.day.astype("timedelta64[D]")
        + seconds.astype("timedelta64[s]")
    )
    return np.char.add(moments.astype(str), "Z")


def _as_written(
    rng: np.random.Generator,
    people: _People,
    who: npt.NDArray[np.int64],
    messy: npt.NDArray[np.bool_],
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.object_]]:
    """Each incident's name and date of birth as an officer wrote them: messy where marked."""
    names = np.char.add(
        np.char.add(np.char.capitalize(people.given[who]), " "),
        np.char.capitalize(people.family[who]),
    ).astype(object)
    dobs = people.dob[who].astype(str).astype(object)
    for i in np.flatnonzero(messy):
        owner = who[i]
        g, f, b = _messy(
            rng, str(people.given[owner]), str(people.family[owner]), people.dob[owner].astype(date)
        )
        names[i] = f"{g.capitalize()} {f.capitalize()}"
        dobs[i] = b.isoformat()
    return names, dobs
