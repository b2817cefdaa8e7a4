from tests.groups.conftest import cast  # noqa: F401  (the role cast, shared)
