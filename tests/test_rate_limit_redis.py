"""Rate limits kept in Redis (production): shared by every worker, still 5 a minute."""

import os

import pytest
import redis

from portal import create_app
from portal.extensions import limiter

REDIS_URL = os.environ.get("TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="set TEST_REDIS_URL (make test-pg does)")


@pytest.fixture
def restore_limiter():
    """The limiter is one object per process: give the other tests back their storage."""
    saved = limiter._storage, limiter._limiter
    yield
    limiter._storage, limiter._limiter = saved


@pytest.mark.real_commits  # two more apps, each with its own engine
def test_sixth_sign_in_attempt_is_limited_and_counted_in_redis(database_url, app, restore_limiter):
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "REDIS_URL": REDIS_URL,
        "RATELIMIT_STORAGE_URI": REDIS_URL,
    }
    store = redis.Redis.from_url(REDIS_URL)  # a database number kept for tests
    store.flushdb()
    worker_a, worker_b = create_app(config), create_app(config)
    data = {"login": "nobody@example.test", "password": "wrong-password"}
    for i in range(5):
        worker = worker_a if i % 2 else worker_b
        assert worker.test_client().post("/login", data=data).status_code == 401
    limited = worker_a.test_client().post("/login", data=data, headers={"Accept-Language": "es"})
    assert limited.status_code == 429
    assert b'lang="es"' in limited.data
    assert any(b"auth.login" in key for key in store.scan_iter()), "the attempts were not counted in Redis"
