"""The worker: runs durable jobs and schedules, standalone (`patron worker`) or inside `serve`."""

from patron.worker.handlers import HANDLERS, IMPORT_CSV, MAINTENANCE, SCHEDULES, JobContext
from patron.worker.loop import Worker, start_in_thread

__all__ = ["HANDLERS", "IMPORT_CSV", "MAINTENANCE", "SCHEDULES", "JobContext", "Worker", "start_in_thread"]
