"""Errors raised by the scoring core.

Every error names *where* the problem is (an indicator id, a category code, a fact table and
column) so that an assessment officer can fix the scheme or the data without reading code.
"""

from __future__ import annotations


class ScoringError(ValueError):
    """Base class: the engine refused to compute because its input is wrong."""

    def __init__(self, where: str, message: str) -> None:
        self.where = where
        self.message = message
        super().__init__(f"{where}: {message}")


class SchemeError(ScoringError):
    """The scheme (weights, indicator tree, rule params, grading policy) is invalid."""


class FactsError(ScoringError):
    """A fact table (entities, indicator results, ratings, votes, adjustments) is invalid."""


class BundleError(ScoringError):
    """A cycle bundle dict does not follow the bundle format."""
