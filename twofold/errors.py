"""The one exception hierarchy of twofold.

The CLI turns every :class:`TwofoldError` into a one-line message and a
non-zero exit code (2 for bad input, 1 for a failed run); anything else is a bug.
"""

from __future__ import annotations


class TwofoldError(Exception):
    """Base class of every error twofold raises on purpose."""

    exit_code = 1


class InputError(TwofoldError):
    """The user asked for something malformed; exit code 2."""

    exit_code = 2


class UnknownClaimError(InputError):
    """No claim or family has this id."""


class ParameterError(InputError):
    """A parameter is missing, of the wrong type, or out of its domain."""


class HypothesisError(ParameterError):
    """The parameters violate a named hypothesis of the claim."""

    def __init__(self, claim_id: str, hypothesis: str, message: str) -> None:
        super().__init__(f"{claim_id}: hypothesis '{hypothesis}' violated: {message}")
        self.claim_id = claim_id
        self.hypothesis = hypothesis
        self.detail = message

    def __reduce__(self) -> tuple:
        """Pickle by the constructor's arguments, so the error crosses a process boundary (``--jobs``)."""
        return type(self), (self.claim_id, self.hypothesis, self.detail)


class ParseError(InputError):
    """User-typed mathematics was rejected by the safe parser."""


class ResourceLimitError(InputError):
    """A computation on user input exceeded its size or time budget."""


class DerivationError(TwofoldError):
    """A derivation step did not check: the exact encoding does not go through."""

    def __init__(self, step_description: str, reason: str, completed: tuple = ()) -> None:
        super().__init__(f"step '{step_description}' does not check: {reason}")
        self.step_description = step_description
        self.reason = reason
        self.completed = completed  # the steps that did check before this one

    def __reduce__(self) -> tuple:
        """Pickle by the constructor's arguments, so the error crosses a process boundary (``--jobs``)."""
        return type(self), (self.step_description, self.reason, self.completed)


class NumericError(TwofoldError):
    """An estimator could not produce a trustworthy number."""


class TexError(TwofoldError):
    """The LaTeX engine is missing or failed to compile a sheet."""
