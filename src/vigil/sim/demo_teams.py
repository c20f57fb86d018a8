"""The demo pilot's probation teams (with their officers' logins) and police forces."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoTeam:
    name: str
    region: str
    force: str
    login: str
    officer: str
    city: str
    centre: tuple[float, float]  # lat, lon
    streets: tuple[str, ...]
    postcode_districts: tuple[str, ...]
    phone_prefix: str  # Ofcom's ranges reserved for drama, so no real line is named


TEAMS: tuple[DemoTeam, ...] = (
    DemoTeam(
        "Birmingham North",
        "WM",
        "WMP",
        "officer",
        "Dana Whitfield",
        "Birmingham",
        (52.4862, -1.8904),
        (
            "Slade Road",
            "Kingstanding Road",
            "College Road",
            "Gravelly Lane",
            "Witton Road",
            "Soho Road",
            "Church Road",
            "Marsh Lane",
            "Sutton New Road",
            "Short Heath Road",
        ),
        ("B23", "B44", "B42", "B6", "B20", "B24"),
        "01214960",
    ),
    DemoTeam(
        "Coventry",
        "WM",
        "WMP",
        "officer.coventry",
        "Imran Haq",
        "Coventry",
        (52.4068, -1.5197),
        (
            "Foleshill Road",
            "Holbrook Lane",
            "Stoney Stanton Road",
            "Walsgrave Road",
            "Binley Road",
            "Earlsdon Avenue",
            "Radford Road",
            "Tile Hill Lane",
        ),
        ("CV1", "CV2", "CV3", "CV5", "CV6"),
        "02476960",
    ),
    DemoTeam(
        "Nottingham City",
        "EM",
        "NOT",
        "officer.nottingham",
        "Claire Bexley",
        "Nottingham",
        (52.9548, -1.1581),
        (
            "Alfreton Road",
            "Hucknall Road",
            "Mansfield Road",
            "Carlton Road",
            "Radford Road",
            "Wollaton Road",
            "Sneinton Dale",
            "Bulwell Lane",
        ),
        ("NG5", "NG6", "NG7", "NG3", "NG8"),
        "01214960",
    ),
    DemoTeam(
        "Leicester",
        "EM",
        "LEI",
        "officer.leicester",
        "Tom Ashworth",
        "Leicester",
        (52.6369, -1.1398),
        (
            "Narborough Road",
            "Belgrave Road",
            "Melton Road",
            "Uppingham Road",
            "Humberstone Road",
            "Aylestone Road",
            "Fosse Road North",
            "Saffron Lane",
        ),
        ("LE2", "LE3", "LE4", "LE5"),
        "01164960",
    ),
)

POLICE: tuple[tuple[str, str, str], ...] = (
    ("police.wmp", "Insp. Rachel Onuoha", "WMP"),
    ("police.notts", "DS Mark Ellery", "NOT"),
    ("police.leics", "DC Aisha Patel", "LEI"),
)
