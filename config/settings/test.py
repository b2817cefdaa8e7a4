"""The test suite runs on the real services: PostgreSQL and Redis on this machine."""

import os

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = "test-only-secret-key-not-for-production-use-0123456789"
DATABASES = {
    "default": env.db(
        "TEST_DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/peersupport"
    ),
}
# One test database per run, so that several runs on one machine never collide.
DATABASES["default"]["TEST"] = {
    "NAME": env("TEST_DATABASE_NAME", default=f"test_peersupport_{os.getpid()}")
}
REDIS_URL = env("TEST_REDIS_URL", default="redis://127.0.0.1:6379/14")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        # Per run, so that the tests' cache clearing never touches another run's keys.
        "KEY_PREFIX": f"peersupport-test-{os.getpid()}",
    }
}
CELERY_BROKER_URL = env("TEST_CELERY_BROKER_URL", default="redis://127.0.0.1:6379/13")
# Per run too: the queues of two runs on one machine never mix (workers the tests start
# in other processes inherit the run's id from the environment).
TEST_RUN_ID = os.environ.setdefault("TEST_RUN_ID", str(os.getpid()))
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "global_keyprefix": f"peersupport-test-{TEST_RUN_ID}:",
}
CELERY_RESULT_BACKEND = env("TEST_CELERY_RESULT_BACKEND", default="redis://127.0.0.1:6379/12")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Worker processes started by tests/notifications send through SMTP to the test's sink.
if env("TEST_EMAIL_URL", default=""):
    vars().update(env.email_url("TEST_EMAIL_URL"))
    EMAIL_TIMEOUT = 10
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve static files straight from the app folders, as in development.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
