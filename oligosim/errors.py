"""Layer 0: the package's exceptions (one module, STYLE.md §9).

User errors (bad scenario, bad parameter) derive from :class:`OligosimInputError`; the CLI
turns them into a message and exit code 2 without a traceback (DESIGN.md §5.1, §8).
"""

from __future__ import annotations


class OligosimError(Exception):
    """Base class of every error raised on purpose by oligosim."""


class OligosimInputError(OligosimError):
    """Bad user input: names the file, the field path, the value and what is allowed."""

    def __init__(self, message: str, *, file: str | None = None, field: str | None = None,
                 value: object = None, allowed: str | None = None) -> None:
        self.file = file
        self.field = field
        self.value = value
        self.allowed = allowed
        parts = []
        if file:
            parts.append(f"{file}")
        if field:
            parts.append(f"field '{field}'")
        prefix = ": ".join(parts)
        text = message
        if value is not None and "got" not in message:
            text += f" (got {value!r})"
        if allowed and "allowed" not in message:
            text += f"; allowed: {allowed}"
        super().__init__(f"{prefix}: {text}" if prefix else text)


class ScenarioError(OligosimInputError):
    """A scenario file is malformed or contradictory."""


class ParameterError(OligosimInputError):
    """A parameter value is out of its allowed range."""


class CapacityError(OligosimError):
    """A fixed engine capacity (lesions per patient, LAT courses, ...) was exceeded."""
