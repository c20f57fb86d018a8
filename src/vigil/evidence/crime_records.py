"""Crime batches, matching runs and matches as pages, exports and the API read them.

TypedDicts rather than dataclasses: the API answers them as they are, so their keys are the
JSON's names; times are ISO text in UTC except a match's window and closest time, which stay
``datetime`` (the API's encoder writes them, the pages format them).
"""

from __future__ import annotations

from datetime import datetime
from typing import NotRequired, TypedDict


class BatchError(TypedDict):
    """One refused row of an upload (``RowError.as_dict``)."""

    row: int
    field: str
    reason: str
    ref: str | None


class BatchRecord(TypedDict):
    id: int
    force: str | None
    source_batch_id: str | None
    filename: str
    format: str
    uploaded_at: str
    uploaded_by: str
    rows_total: int
    rows_accepted: int
    errors: list[BatchError]


class RunParameters(TypedDict):
    """A run's matching parameters as stored (``MatchParameters.as_dict``)."""

    radius_m: float
    padding_before_s: float
    padding_after_s: float
    max_accuracy_m: float
    default_accuracy_m: float


class RunRecord(TypedDict):
    id: int
    batch_id: int
    algorithm_version: str
    parameters: RunParameters
    transformation: str
    run_at: str
    run_by: str
    reason: str
    matches: int


class BatchDetail(BatchRecord):
    runs: list[RunRecord]


class MatchedFix(TypedDict):
    """One fix that places a wearer at a scene, as stored with the match (``FixWithin.as_dict``)."""

    fix_id: int
    time: str
    lat: float
    lon: float
    accuracy_m: float | None
    distance_m: float
    spatial: str
    in_window: bool
    confidence: float


class MatchRecord(TypedDict):
    id: int
    crime_id: int
    crime_reference: str
    crime_type: str
    crime_type_code: str
    window_from_utc: datetime
    window_to_utc: datetime
    crime_lat: float
    crime_lon: float
    person_id: str
    closest_distance_m: float
    closest_time_utc: datetime
    closest_fix_id: int
    fixes: list[MatchedFix]
    fixes_within: int
    confidence: float
    label: str
    status: str
    reviewed_by: str | None
    review_note: str | None
    confidence_reasons: str
    confidence_meaning: str
    deciding_fix_time_utc: datetime
    # Named once the caller's scope is applied (the registry's name and CRN).
    person_name: NotRequired[str]
    person_crn: NotRequired[str | None]


class RunDetail(RunRecord):
    results: list[MatchRecord]


class Reviewed(TypedDict):
    id: int
    status: str
