"""Errors raised by the scoring core.

Every error names *where* the problem is (an indicator id, a category code, a fact table and
column) so that an assessment officer can fix the scheme or the data without reading code.
"""

from __future__ import annotations


class ScoringError(ValueError):
    """Base class: the engine refused to compute because its input is wrong."""

    def __init__(self, where: str, message: str, *, param: str = "", problem: str = "") -> None:
        self.where = where
        self.message = message
        # ``param`` names the offending parameter and ``problem`` is a stable code for what is wrong
        # with it, so that a user interface can say the same in its own language.
        self.param = param
        self.problem = problem
        super().__init__(f"{where}: {message}")


class SchemeError(ScoringError):
    """The scheme (weights, indicator tree, rule params, grading policy) is invalid."""


class FactsError(ScoringError):
    """A fact table (entities, indicator results, ratings, votes, adjustments) is invalid."""


class BundleError(ScoringError):
    """A cycle bundle dict does not follow the bundle format."""
