"""The linkage model's comparisons and blocking rules, as Splink builds them (untrained)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from splink import SettingsCreator

# The two names written the other way round ("Edwards Stephen"), exactly or but for doubled
# letters: a level of both the forename and the surname comparison, so that neither counts a
# swapped name as a different one.
SWAPPED = (
    "((given_l = family_r AND family_l = given_r)"
    " OR (given_squash_l = family_squash_r AND family_squash_l = given_squash_r))"
    " AND NOT (given_squash_l = given_squash_r)"
)


# Swapped and misspelt ("Jarvs Christopher"): each name within one edit of the other's.
SWAPPED_CLOSE = (
    "damerau_levenshtein(given_squash_l, family_squash_r) <= 1"
    " AND damerau_levenshtein(family_squash_l, given_squash_r) <= 1"
    " AND damerau_levenshtein(given_squash_l, given_squash_r) > 1"
)


def _splink() -> Any:
    # Imported on use: Splink pulls in DuckDB and sqlglot, which the rest of Vigil does not need.
    logging.getLogger("splink").setLevel(logging.ERROR)
    import splink

    return splink


def settings(prior: float = 1e-4) -> SettingsCreator:
    """The model's comparisons and blocking rules (untrained)."""
    splink = _splink()
    block_on = splink.block_on
    levels = _Levels()
    created: SettingsCreator = splink.SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        probability_two_random_records_match=prior,
        comparisons=[
            _forename(levels),
            _surname(levels),
            _date_of_birth(levels),
            _shared_victims(levels),
            _force(levels),
        ],
        blocking_rules_to_generate_predictions=[
            # Same date of birth (day and month in either order) and the same initials in either
            # order: catches initials, swapped names, misspellings after the first letter.
            block_on("dob_dm", "initials"),
            # Same date of birth and one phonetic code: a first letter mistyped in the other name.
            block_on("dob_dm", "family_code"),
            block_on("dob_dm", "given_code"),
            # Same birth year, or same day and month, with both names sounding alike: a date of
            # birth off in one field.
            block_on("year", "family_code", "initials"),
            block_on("month", "day", "family_code", "initials"),
        ],
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=True,  # keeps gamma_ (the level) per comparison
        additional_columns_to_retain=[],
    )
    return created


class _Levels:
    """Splink's level and comparison builders, with the starting m and u of each level."""

    def __init__(self) -> None:
        import splink.comparison_level_library as cll
        import splink.comparison_library as cl

        self.cll = cll
        self.cl = cl

    def null(self, col: str) -> Any:
        return self.cll.CustomLevel(f"{col}_l IS NULL OR {col}_r IS NULL", "missing").configure(
            is_null_level=True
        )

    def level(self, creator: Any, label: str, m: float, u: float) -> Any:
        # Starting values: EM and random sampling replace them for every level the data show;
        # a level never seen (say, initials in a load that has none) keeps its starting value.
        return creator.configure(label_for_charts=label, m_probability=m, u_probability=u)

    def custom(self, sql: str, label: str, m: float, u: float) -> Any:
        return self.level(self.cll.CustomLevel(sql), label, m, u)

    def jaro_winkler(self, col: str, threshold: float, label: str, m: float, u: float) -> Any:
        return self.level(self.cll.JaroWinklerLevel(col, threshold), label, m, u)

    def one_letter_off(self, col: str, m: float, u: float) -> Any:
        return self.level(self.cll.DamerauLevenshteinLevel(col, 1), "one letter off", m, u)

    def in_common(self, col: str, label: str, m: float, u: float) -> Any:
        return self.level(self.cll.ArrayIntersectLevel(col, 1), label, m, u)

    def otherwise(self, label: str, m: float, u: float) -> Any:
        return self.level(self.cll.ElseLevel(), label, m, u)

    def comparison(self, name: str, levels: list[Any]) -> Any:
        return self.cl.CustomComparison(output_column_name=name, comparison_levels=levels)


def _forename(b: _Levels) -> Any:
    return b.comparison(
        "forename",
        [
            b.null("given"),
            b.custom(SWAPPED, "swapped with the surname", 0.03, 0.00002),
            b.custom(SWAPPED_CLOSE, "swapped with the surname, spelt differently", 0.01, 0.00001),
            b.custom("given_l = given_r", "exact", 0.75, 0.01),
            b.custom("given_canon_l = given_canon_r", "nickname of the same name", 0.05, 0.002),
            b.jaro_winkler("given", 0.92, "very close spelling", 0.08, 0.002),
            b.one_letter_off("given", 0.03, 0.001),
            b.custom(
                "(length(given_l) = 1 OR length(given_r) = 1) AND initial_l = initial_r",
                "initial against full name",
                0.03,
                0.002,
            ),
            b.jaro_winkler("given", 0.8, "similar spelling", 0.03, 0.01),
            b.otherwise("different", 0.03, 0.973),
        ],
    )


def _surname(b: _Levels) -> Any:
    return b.comparison(
        "surname",
        [
            b.null("family"),
            b.custom(SWAPPED, "swapped with the forename", 0.03, 0.00002),
            b.custom(SWAPPED_CLOSE, "swapped with the forename, spelt differently", 0.01, 0.00001),
            b.custom("family_l = family_r", "exact", 0.8, 0.002),
            b.custom(
                "family_squash_l = family_squash_r", "doubled or dropped letter", 0.05, 0.0002
            ),
            b.in_common("family_parts", "one part of a double-barrelled name", 0.02, 0.0005),
            b.jaro_winkler("family", 0.92, "very close spelling", 0.05, 0.001),
            b.one_letter_off("family", 0.03, 0.002),
            b.jaro_winkler("family", 0.8, "similar spelling", 0.02, 0.005),
            b.otherwise("different", 0.03, 0.9863),
        ],
    )


def _date_of_birth(b: _Levels) -> Any:
    return b.comparison(
        "dob",
        [
            b.null("dob"),
            b.custom("dob_l = dob_r", "exact", 0.9, 0.00005),
            b.custom(
                "year_l = year_r AND month_l = day_r AND day_l = month_r",
                "day and month transposed",
                0.04,
                0.00002,
            ),
            b.custom(
                "(CASE WHEN year_l = year_r THEN 1 ELSE 0 END"
                " + CASE WHEN month_l = month_r THEN 1 ELSE 0 END"
                " + CASE WHEN day_l = day_r THEN 1 ELSE 0 END) = 2",
                "one field differs",
                0.04,
                0.005,
            ),
            b.otherwise("different", 0.02, 0.99493),
        ],
    )


def _shared_victims(b: _Levels) -> Any:
    return b.comparison(
        "shared_victims",
        [
            b.null("victims"),
            b.in_common("victims", "a victim in common", 0.5, 0.0001),
            b.otherwise("no victim in common", 0.5, 0.9999),
        ],
    )


def _force(b: _Levels) -> Any:
    return b.comparison(
        "force",
        [
            b.null("forces"),
            b.in_common("forces", "same force area", 0.9, 0.3),
            b.otherwise("different force areas", 0.1, 0.7),
        ],
    )
