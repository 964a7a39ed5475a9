"""The Qt bridge to the engine: one long-lived worker thread that runs every torch job."""

from studio.ui.workers.host import WorkerHost
from studio.ui.workers.job import Job, JobState
from studio.ui.workers.worker import Worker

__all__ = ["Job", "JobState", "Worker", "WorkerHost"]
