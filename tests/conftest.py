"""Shared actors and real infrastructure: PostGIS, Redis, a Celery worker, a channel layer."""

import pytest
from rest_framework.test import APIClient

from accounts.choices import Role
from tests.accounts.factories import PASSWORD, UserFactory


@pytest.fixture
def password() -> str:
    return PASSWORD


def _actor(role: str):
    @pytest.fixture
    def fixture(db):
        return UserFactory(role=role)

    return fixture


farmer = _actor(Role.FARMER)
cooperative_manager = _actor(Role.COOPERATIVE_MANAGER)
market_operator = _actor(Role.MARKET_OPERATOR)
buyer = _actor(Role.BUYER)
warehouse_manager = _actor(Role.WAREHOUSE_MANAGER)
courier = _actor(Role.COURIER)
coldchain_controller = _actor(Role.COLDCHAIN_CONTROLLER)
consumer = _actor(Role.CONSUMER)
admin_user = _actor(Role.ADMIN)


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def api_as(api_client):
    """api_as(user) → an APIClient authenticated as that user (session-less, forced)."""

    def sign_in(user) -> APIClient:
        api_client.force_authenticate(user=user)
        return api_client

    return sign_in


@pytest.fixture(scope="session")
def celery_worker_live():
    """A real Celery worker, in a thread of this process, consuming the test Redis broker.

    Tasks go through Redis and back exactly as in production (no eager mode). The worker
    has its own database connection, so a task that reads or writes rows needs
    `django_db(transaction=True)`: it cannot see a test's uncommitted transaction.
    """
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    assert not app.conf.task_always_eager
    # No ping check: it needs celery.contrib.testing's own task, which is not registered.
    with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False) as worker:
        yield worker
