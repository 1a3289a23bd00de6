"""City Data Hub project package and shared data catalog app."""

from hub.celery import app as celery_app

__all__ = ("celery_app",)
