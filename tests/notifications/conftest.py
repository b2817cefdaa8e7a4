from tests.celery_eager import eager_celery  # noqa: F401  (tasks inline, raising)
from tests.groups.conftest import cast  # noqa: F401  (the role cast, shared)
