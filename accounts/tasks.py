from celery import shared_task
from django.core.management import call_command


@shared_task(name="accounts.clear_expired_sessions")
def clear_expired_sessions() -> None:
    """Delete expired sign-in sessions; Django leaves this to the site. Safe to run twice."""
    call_command("clearsessions")
