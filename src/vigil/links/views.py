"""The links part's answers as JSON-ready data (for the API) — one place that shapes them."""

from __future__ import annotations

from typing import Any

from vigil.contact.prisoner_history import PrisonerAttempt, PrisonerBar
from vigil.harm.positions import MatrixPosition
from vigil.links.model import PersonLink
from vigil.links.release_planning import ReleaseCandidate
from vigil.links.story import PersonStory, PrisonSide


def link_json(link: PersonLink) -> dict[str, Any]:
    return {
        "id": link.id,
        "person_id": link.person_id,
        "target": link.target.value,
        "target_key": link.target_key,
        "method": link.method.value,
        "status": link.status.value,
        "score": link.score,
        "reason": link.reason,
        "made_by": link.made_by,
        "made_at": link.made_at.isoformat(),
        "decided_by": link.decided_by,
        "decided_at": link.decided_at.isoformat() if link.decided_at else None,
    }


def bar_json(bar: PrisonerBar) -> dict[str, Any]:
    return {
        "case_reference": bar.case_reference,
        "since": bar.created_at.isoformat(),
        "review_date": bar.review_date.isoformat() if bar.review_date else None,
        "lifted_at": bar.lifted_at.isoformat() if bar.lifted_at else None,
        "numbers": bar.numbers,
        "addresses": bar.addresses,
        "emails": bar.emails,
    }


def attempt_json(attempt: PrisonerAttempt) -> dict[str, Any]:
    return {"at": attempt.at.isoformat(), "outcome": attempt.outcome}


def position_json(place: MatrixPosition) -> dict[str, Any]:
    return {
        "person_key": place.person_key,
        "run_id": place.run_id,
        "as_of": place.as_of.isoformat(),
        "rank": place.rank,
        "force": place.force,
        "force_rank": place.force_rank,
        "score": place.score,
        "band": place.band,
        "explanation": place.explanation,
        "previous_rank": place.previous_rank,
        "movement": place.movement.value,
    }


def _prison_json(side: PrisonSide) -> dict[str, Any]:
    p = side.prisoner
    return {
        "prison_number": p.prison_number,
        "establishment": p.establishment,
        "release_date": p.release_date.isoformat() if p.release_date else None,
        "bars": [bar_json(bar) for bar in side.bars],
        "attempts": [attempt_json(a) for a in side.attempts],
    }


def story_json(story: PersonStory) -> dict[str, Any]:
    return {
        "person_id": story.person_id,
        "links": [link_json(link) for link in story.links],
        "prison": [_prison_json(side) for side in story.prison],
        "matrix": [position_json(place) for place in story.matrix],
    }


def candidate_json(candidate: ReleaseCandidate) -> dict[str, Any]:
    p = candidate.prisoner
    return {
        "prison_number": p.prison_number,
        "name": p.full_name,
        "establishment": p.establishment,
        "release_date": candidate.release_date.isoformat(),
        "priority": candidate.priority,
        "person_id": candidate.person_id,
        "order_id": candidate.order_id,
        "bars": [bar_json(bar) for bar in candidate.bars],
        "attempts": [attempt_json(a) for a in candidate.attempts],
        "recent_attempts": candidate.recent_attempts,
        "matrix": position_json(candidate.matrix) if candidate.matrix else None,
        "proposed_zones": [
            {
                "address": zone.address,
                "postcode": zone.postcode,
                "lat": zone.lat,
                "lon": zone.lon,
                "radius_m": zone.radius_m,
                "problem": zone.problem,
            }
            for zone in candidate.zones
        ],
    }
