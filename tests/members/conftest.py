from tests.celery_eager import eager_celery  # noqa: F401  (tasks inline, raising)
