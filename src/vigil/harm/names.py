"""Names as records write them: phonetic codes, token similarity, nicknames folded to the
formal name, and a frame's name split into comparable parts."""

from __future__ import annotations

import unicodedata

import jellyfish
import polars as pl
from rapidfuzz.distance import JaroWinkler

from vigil.harm.model import NICKNAMES, canonical_given


def phonetic(token: str) -> str:
    """NYSIIS of a name token (robust to vowel and doubled-letter misspellings)."""
    return jellyfish.nysiis(token) if token else ""


def token_similarity(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    if a == b or canonical_given(a) == canonical_given(b):
        return 1.0
    similarity = float(JaroWinkler.normalized_similarity(a, b))
    if phonetic(a) == phonetic(b):
        similarity = max(similarity, 0.9)
    return similarity


_NICK_FROM = list(NICKNAMES)
_NICK_TO = list(NICKNAMES.values())


def _fold(value: str) -> str:
    return unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()


def name_parts(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """Add ``given`` and ``family`` (normalised, vectorised) from a written name column.

    Same rule as ``model.split_name``: "Family, Given" is reordered, accents folded, punctuation
    dropped, the first token is the given name and the last the family name.
    """
    names = frame[column].fill_null("")
    odd = names.filter(names.str.contains(r"[^\x00-\x7F]")).unique().to_list()
    if odd:
        names = names.replace(odd, [_fold(v) for v in odd])
    lowered = names.str.to_lowercase()
    comma = lowered.str.splitn(",", 2).struct.rename_fields(["a", "b"])
    reordered = pl.select(
        pl.when(lowered.str.contains(",", literal=True))
        .then(pl.concat_str([comma.struct.field("b"), pl.lit(" "), comma.struct.field("a")]))
        .otherwise(lowered)
    ).to_series()
    cleaned = (
        reordered.str.replace_all(r"[^a-z\s'-]", " ")
        .str.replace_all(r"[\s'-]+", " ")
        .str.strip_chars()
    )
    tokens = cleaned.str.split(" ")
    return frame.with_columns(
        given=pl.when(tokens.list.len() > 1).then(tokens.list.first()).otherwise(pl.lit("")),
        family=tokens.list.last().fill_null(""),
        # Every token after the given name: the parts of a double-barrelled family name.
        family_parts=pl.when(tokens.list.len() > 1)
        .then(tokens.list.slice(1))
        .otherwise(tokens)
        .list.eval(pl.element().filter(pl.element() != "")),
    )


def nickname_folded(column: str) -> pl.Expr:
    return pl.col(column).replace(_NICK_FROM, _NICK_TO)
