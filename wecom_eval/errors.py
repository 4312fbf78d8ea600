"""The exception hierarchy. Each error carries the exit code the command line returns for it.

Messages name the place (file, row, column, parameter), the bad value, what was expected
and what to do, so that a user never needs a traceback to fix a problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class WecomEvalError(Exception):
    """Base class for every error the workbook raises on purpose."""

    exit_code: int = 1


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is, what was found, what was expected."""

    where: str
    value: object
    expected: str
    fix: str = ""

    def __str__(self) -> str:
        text = f"{self.where}: got {self.value!r}; expected {self.expected}"
        return f"{text}. {self.fix}" if self.fix else text


@dataclass
class InputError(WecomEvalError):
    """Bad parameters, plan or input data (exit code 2). Nothing was changed."""

    subject: str
    problems: list[Problem] = field(default_factory=list)
    exit_code: int = 2

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        lines = [f"{self.subject}: {len(self.problems)} problem(s), nothing was changed"]
        lines += [f"  - {p}" for p in self.problems[:50]]
        if len(self.problems) > 50:
            lines.append(f"  … and {len(self.problems) - 50} more of the same kinds")
        return "\n".join(lines)


class SourceError(WecomEvalError):
    """A data source failed after retries, or answered with an error retrying cannot fix (exit 3)."""

    exit_code = 3


class NotebookError(WecomEvalError):
    """A report notebook failed; the executed copy with the error is kept (exit 4)."""

    exit_code = 4


class LockBusy(WecomEvalError):
    """Another run holds the warehouse lock (exit 5)."""

    exit_code = 5
