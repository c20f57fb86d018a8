"""The agencies at a MATAC table, one of which owns each tasking review's actions."""

from __future__ import annotations

from enum import StrEnum


class Agency(StrEnum):
    """The agency at the MATAC table that owns a tasking review's actions."""

    POLICE = "police"
    PROBATION = "probation"
    VICTIM_SERVICE = "victim_service"
    CHILDRENS_SOCIAL_CARE = "childrens_social_care"
    ADULT_SOCIAL_CARE = "adult_social_care"
    HOUSING = "housing"
    HEALTH = "health"
    DRUG_AND_ALCOHOL = "drug_and_alcohol"
    PERPETRATOR_PROGRAMME = "perpetrator_programme"


AGENCY_LABELS = {
    Agency.POLICE: "Police",
    Agency.PROBATION: "Probation",
    Agency.VICTIM_SERVICE: "IDVA or victim service",
    Agency.CHILDRENS_SOCIAL_CARE: "Children's social care",
    Agency.ADULT_SOCIAL_CARE: "Adult social care",
    Agency.HOUSING: "Housing",
    Agency.HEALTH: "Health",
    Agency.DRUG_AND_ALCOHOL: "Drug and alcohol service",
    Agency.PERPETRATOR_PROGRAMME: "Perpetrator programme",
}
