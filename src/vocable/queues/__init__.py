"""Where jobs run: the in-process queue (``vocable.transcription.jobs.InProcessQueue``, the
default) or Celery workers on Redis (``CeleryQueue``, ``VOCABLE_QUEUE=celery``)."""

from vocable.queues.celery import CeleryQueue, make_celery

__all__ = ["CeleryQueue", "make_celery"]
