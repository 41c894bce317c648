from celery import shared_task


@shared_task(name="common.ping")
def ping() -> str:
    """Answered by any live worker; /healthz uses it for a real broker round trip."""
    return "pong"
