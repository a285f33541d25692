"""Which expression contexts an attacker controls.

Three classes, after what a value can contain once expanded into a script:

- ``ATTACKER``: free text chosen by whoever opens a pull request, an issue, a
  comment, a commit or a branch (titles, bodies, branch names, commit messages,
  author names and e-mails). A branch name may hold ``$(...)``, ``;``, ``|``
  and ``${IFS}``: that is how the Ultralytics workflow was entered.
- ``STRUCTURED``: chosen by the attacker but constrained to a shape that cannot
  carry a shell command (commit SHAs, numbers, GitHub logins, repository
  names, URLs GitHub builds).
- ``FIXED``: set by GitHub or the repository's own maintainers (``github.sha``,
  ``github.repository``, ``secrets``, ``vars``, ``matrix`` ...).

Anything else is ``UNKNOWN``: step and job outputs, event fields not in the
table, and inputs that could not be traced back to their caller.
"""

from __future__ import annotations

import enum
from functools import cache


class Control(enum.StrEnum):
    """Who decides a context's value."""

    ATTACKER = "attacker-controlled"
    STRUCTURED = "structured"
    FIXED = "fixed"
    UNKNOWN = "unknown"


# (pattern, class): the first match wins; ``*`` stands for one path segment,
# a trailing ``**`` for any rest.
_TABLE: tuple[tuple[str, Control], ...] = (
    # branch names and free text of pull requests
    ("github.head_ref", Control.ATTACKER),
    ("github.event.pull_request.title", Control.ATTACKER),
    ("github.event.pull_request.body", Control.ATTACKER),
    ("github.event.pull_request.head.ref", Control.ATTACKER),
    ("github.event.pull_request.head.label", Control.ATTACKER),
    ("github.event.pull_request.head.repo.default_branch", Control.ATTACKER),
    ("github.event.pull_request.head.repo.description", Control.ATTACKER),
    ("github.event.pull_request.head.repo.homepage", Control.ATTACKER),
    ("github.event.pull_request.head.sha", Control.STRUCTURED),
    ("github.event.pull_request.head.repo.**", Control.STRUCTURED),
    ("github.event.pull_request.user.login", Control.STRUCTURED),
    ("github.event.pull_request.labels.*.name", Control.ATTACKER),
    ("github.event.pull_request.number", Control.FIXED),
    ("github.event.pull_request.merge_commit_sha", Control.STRUCTURED),
    ("github.event.pull_request.base.**", Control.FIXED),
    # issues, comments, reviews, discussions, wiki pages
    ("github.event.issue.title", Control.ATTACKER),
    ("github.event.issue.body", Control.ATTACKER),
    ("github.event.issue.labels.*.name", Control.ATTACKER),
    ("github.event.issue.number", Control.FIXED),
    ("github.event.issue.user.login", Control.STRUCTURED),
    ("github.event.comment.body", Control.ATTACKER),
    ("github.event.comment.user.login", Control.STRUCTURED),
    ("github.event.comment.id", Control.FIXED),
    ("github.event.review.body", Control.ATTACKER),
    ("github.event.review_comment.body", Control.ATTACKER),
    ("github.event.discussion.title", Control.ATTACKER),
    ("github.event.discussion.body", Control.ATTACKER),
    ("github.event.pages.*.page_name", Control.ATTACKER),
    ("github.event.pages.*.title", Control.ATTACKER),
    # commits pushed by whoever could push (fork PRs under workflow_run)
    ("github.event.commits.*.message", Control.ATTACKER),
    ("github.event.commits.*.author.name", Control.ATTACKER),
    ("github.event.commits.*.author.email", Control.ATTACKER),
    ("github.event.commits.*.committer.name", Control.ATTACKER),
    ("github.event.commits.*.committer.email", Control.ATTACKER),
    ("github.event.head_commit.message", Control.ATTACKER),
    ("github.event.head_commit.author.name", Control.ATTACKER),
    ("github.event.head_commit.author.email", Control.ATTACKER),
    ("github.event.head_commit.committer.name", Control.ATTACKER),
    ("github.event.head_commit.committer.email", Control.ATTACKER),
    ("github.event.head_commit.id", Control.STRUCTURED),
    ("github.event.after", Control.STRUCTURED),  # commit SHAs of a push
    ("github.event.before", Control.STRUCTURED),
    ("github.event.ref", Control.STRUCTURED),
    ("github.event.compare", Control.STRUCTURED),
    # workflow_run: the triggering run came from a fork's branch
    ("github.event.workflow_run.head_branch", Control.ATTACKER),
    ("github.event.workflow_run.display_title", Control.ATTACKER),
    ("github.event.workflow_run.head_commit.message", Control.ATTACKER),
    ("github.event.workflow_run.head_commit.author.name", Control.ATTACKER),
    ("github.event.workflow_run.head_commit.author.email", Control.ATTACKER),
    ("github.event.workflow_run.pull_requests.*.head.ref", Control.ATTACKER),
    ("github.event.workflow_run.head_sha", Control.STRUCTURED),
    ("github.event.workflow_run.head_repository.**", Control.STRUCTURED),
    ("github.event.workflow_run.id", Control.FIXED),
    ("github.event.workflow_run.conclusion", Control.FIXED),
    # the rest of the event
    ("github.event.number", Control.FIXED),
    ("github.event.action", Control.FIXED),
    ("github.event.release.**", Control.FIXED),
    ("github.event.repository.**", Control.FIXED),
    ("github.event.inputs.*", Control.UNKNOWN),
    ("github.event.sender.login", Control.STRUCTURED),
    ("github.event.**", Control.UNKNOWN),
    # the github context outside the event
    ("github.actor", Control.STRUCTURED),
    ("github.triggering_actor", Control.STRUCTURED),
    ("github.ref", Control.STRUCTURED),
    ("github.ref_name", Control.STRUCTURED),
    ("github.base_ref", Control.FIXED),
    ("github.**", Control.FIXED),
    ("secrets.**", Control.FIXED),
    ("vars.**", Control.FIXED),
    ("matrix.**", Control.FIXED),
    ("strategy.**", Control.FIXED),
    ("runner.**", Control.FIXED),
    ("job.**", Control.FIXED),
    ("steps.*.outcome", Control.FIXED),
    ("steps.*.conclusion", Control.FIXED),
    ("needs.*.result", Control.FIXED),
)


def _matches(segments: tuple[str, ...], path: str) -> bool:
    """Whether ``path`` is what the table's pattern (split at dots) describes.

    A literal segment is itself, ``*`` one non-empty segment, and ``**`` (last
    only) one or more characters of any kind but a newline, dots included.
    Matched segment by segment: the table's 76 patterns as regular expressions
    took longer to compile at import than every lookup of a run.
    """
    parts = path.split(".")
    for index, segment in enumerate(segments):
        if segment == "**":
            rest = ".".join(parts[index:])
            return index < len(parts) and rest != "" and "\n" not in rest
        if index >= len(parts):
            return False
        if segment == "*":
            if not parts[index]:
                return False
        elif parts[index] != segment:
            return False
    return len(parts) == len(segments)


_SPLIT = tuple((tuple(pattern.split(".")), control) for pattern, control in _TABLE)
if any("**" in segments[:-1] for segments, _ in _SPLIT):  # pragma: no cover - a table edit
    raise ValueError("'**' stands only at the end of a context pattern")


@cache
def classify(path: str) -> Control:
    """The class of a context path as ``expressions`` writes it (lower-case, ``*`` indexes)."""
    for segments, control in _SPLIT:
        if _matches(segments, path):
            return control
    return Control.UNKNOWN


def table() -> tuple[tuple[str, Control], ...]:
    """The classification table, for the documentation."""
    return _TABLE
