import kombu.exceptions
import redis.exceptions
from celery import shared_task

from . import backups

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


@shared_task(name="common.take_nightly_backup")
def take_nightly_backup() -> dict:
    """A backup into BACKUP_DIR (common/backups.py), then only the newest BACKUP_KEEP kept."""
    backup = backups.take_backup()
    return {"backup": str(backup.folder), "removed": backups.prune_backups()}
