"""City Data Hub project package and shared data catalog app."""

from hub import memory

memory.configure()

from hub.celery import app as celery_app  # noqa: E402 - after the memory policy

__all__ = ("celery_app",)
