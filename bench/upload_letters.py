"""One CSV sent to `POST /api/v1/imports` in this process (the app's own WSGI handling, the
body read from the file as the route asks for it), for bench/import_letters.py's `--via api`.

    python -m bench.upload_letters FILE   (DATABASE_URL, REDIS_URL and JOB_QUEUE_PREFIX from the environment)

Prints the import's id: the job is queued for a worker.
"""

from __future__ import annotations

import os
import sys
import uuid

from domain.staff.api_tokens import create_token
from factory import create_app


def main(path: str) -> None:
    app = create_app()
    with app.app_context():
        token = create_token(f"bench-{uuid.uuid4().hex[:8]}")
    with open(path, "rb") as body:
        answer = app.test_client().post(
            "/api/v1/imports?filename=bench.csv",
            input_stream=body,
            content_length=os.path.getsize(path),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
        )
    if answer.status_code != 202:
        sys.exit(f"upload refused: {answer.status_code} {answer.get_data(as_text=True)[:300]}")
    print(answer.json["id"])


if __name__ == "__main__":
    main(sys.argv[1])
