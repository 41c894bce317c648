import kombu.exceptions
import redis.exceptions
from celery import shared_task

# What a task that means to retry on broker or Redis trouble names in its `autoretry_for`:
# the classes really raised. Redis's ConnectionError is not the builtin one.
BROKER_ERRORS: tuple[type[Exception], ...] = (
    kombu.exceptions.OperationalError,  # Celery could not reach the broker (e.g. in .delay())
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    ConnectionError,  # the builtin one, raised by sockets underneath
)


@shared_task(name="common.ping")
def ping() -> str:
    """Answered by any live worker; /healthz uses it for a real broker round trip."""
    return "pong"
