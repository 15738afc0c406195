"""GET /jobs/{id}: progress of an upload's ingestion, kept across restarts of the server.
For the keys that may upload only: a job names its files and documents, whatever their
collection."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import StateDep, WriteAuth
from api.problems import ApiProblem
from api.schemas import Job

router = APIRouter(prefix="/jobs", tags=["documents"], dependencies=[WriteAuth])


@router.get("/{job_id}", response_model=Job)
def get_job(state: StateDep, job_id: str) -> Job:
    record = state.index.jobs.get(job_id)
    if record is None:
        raise ApiProblem(404, "Not found", f"No job with id {job_id}")
    return Job.model_validate_json(record)
