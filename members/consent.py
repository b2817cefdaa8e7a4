"""The documents people consent to, and the version of each in force today."""

from members.models import ConsentKind

CURRENT_VERSIONS = {
    ConsentKind.TERMS: "2026-11",
    ConsentKind.EMAIL_CONTACT: "2026-11",
    ConsentKind.RESEARCH_USE: "2026-11",
}

# Terms are the condition for having an account; the others are free choices.
OPTIONAL_KINDS = (ConsentKind.EMAIL_CONTACT, ConsentKind.RESEARCH_USE)
