from django.apps import AppConfig
from django.core.signals import request_finished
from django.db.models.signals import post_migrate


class CommonConfig(AppConfig):
    name = "common"
    verbose_name = "Common"

    def ready(self) -> None:
        from celery.signals import before_task_publish, task_postrun, task_prerun
        from django.core.checks import register

        from . import logs, metrics
        from .db_roles import grant_after_migrate

        # Sent for this app after every app has migrated: all tables exist by then.
        post_migrate.connect(grant_after_migrate, sender=self, dispatch_uid="grant_app_role")
        # A request's id follows it into its log lines and the tasks it queues (common/logs.py).
        logs.install_record_factory()
        register(metrics.check_multiprocess)
        request_finished.connect(logs.forget_request_id, dispatch_uid="request_id_forget")
        before_task_publish.connect(logs.stamp_published_task, dispatch_uid="request_id_publish")
        task_prerun.connect(logs.enter_task, dispatch_uid="request_id_enter_task")
        task_postrun.connect(logs.leave_task, dispatch_uid="request_id_leave_task")
