"""What a person types into the app's bigger forms, valid, for tests to start from."""

# The group details form (create and edit share these fields).
GROUP_DETAILS = {
    "name": "Parkinson's Torino",
    "summary": "Weekly meetings in Turin.",
    "description": "",
    "topic": "other",
    "audience": "both",
    "format": "in-person",
    "language": "it",
    "city": "Torino",
    "region": "",
    "country": "it",
    "time_zone": "Europe/Rome",
    "visibility": "listed",
    "join_policy": "open",
    "capacity": "",
    "status": "active",
    "contact_email": "",
    "video_link_policy": "around-meeting",
}


def new_group(facilitator_email: str, **changes) -> dict:
    """The coordinator's "new group" form, filled in."""
    return {
        **GROUP_DETAILS,
        "slug": "parkinsons-torino",
        "facilitator_email": facilitator_email,
        "code_of_conduct": "Be kind.",
        **changes,
    }
