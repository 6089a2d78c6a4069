"""Can an admin upload a CSV in the console and watch it load, and nobody else?"""

from __future__ import annotations

import io

from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from extensions import db
from models import ImportChunk, ImportJob, ImportState, Transaction
from tests.support.records import csrf_token, logged_in_client
from tests.support.uploads import CHUNK, RecordingStream, assert_straddles, letters_and_rejections, straddling_csv

CSV = (
    "number,date,direction,subject,sender,recipient,holder,status,status_date,phone\n"
    "9001,2024-03-15,to_federal,طلب,وزارة الداخلية في إقليم كوردستان,وزارة المالية الاتحادية,"
    "وزارة المالية الاتحادية,forwarded,2024-04-02,\n"
    "9002,2024-03-15,sideways,طلب,وزارة الداخلية في إقليم كوردستان,وزارة المالية الاتحادية,"
    "وزارة المالية الاتحادية,forwarded,2024-04-02,\n"
).encode()


def upload(client, content: bytes, name="june.csv"):
    return client.post(
        "/console/imports",
        data={
            "csrf_token": csrf_token(client, "/console/imports"),
            "file": (io.BytesIO(content), name),
        },
        content_type="multipart/form-data",
    )


def test_an_admin_uploads_a_csv_and_sees_its_progress(app, staff):
    client = logged_in_client(app, "adam")
    assert upload(client, CSV).status_code == 302
    with app.app_context():
        job = db.session.scalars(select(ImportJob)).one()
        assert job.source == "console" and job.requested_by == "adam"
        assert job.state == ImportState.done  # no Redis here: it ran inline
        assert db.session.scalars(select(Transaction.number)).all() == ["9001"]
        job_id = job.id
    status = client.get(f"/console/imports/{job_id}.json").json
    assert (status["added"], status["rejected"], status["processed"], status["total_lines"]) == (1, 1, 2, 2)
    page = client.get("/console/imports").get_data(as_text=True)
    assert "june.csv" in page and "line 3: direction" in page and 'data-state="done"' in page


def test_a_wrong_header_is_told_and_nothing_is_queued(app, staff):
    client = logged_in_client(app, "adam")
    answer = upload(client, b"a,b\n1,2\n")
    assert answer.status_code == 302
    page = client.get("/console/imports").get_data(as_text=True)
    assert "wrong header" in page
    with app.app_context():
        assert db.session.scalars(select(ImportJob)).first() is None


def test_only_admins_import(app, staff):
    client = logged_in_client(app, "sami")
    assert client.get("/console/imports").status_code == 403
    assert client.get("/console/imports/1.json").status_code == 403


def test_an_upload_over_the_import_limit_is_a_413_that_leaves_nothing_behind(app, staff, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 1000)
    monkeypatch.setitem(app.config, "IMPORT_CHUNK_BYTES", 100)  # some chunks are stored before the limit
    client = logged_in_client(app, "adam")
    answer = upload(client, CSV * 5)  # within the request's limit (the form around it), over the file's
    assert answer.status_code == 413
    assert "The file is too large." in answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(ImportJob)).first() is None
        assert db.session.scalars(select(ImportChunk)).first() is None


def test_a_body_larger_than_the_import_limit_is_refused_before_it_is_read(app, staff, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 1000)
    client = logged_in_client(app, "adam")
    body = RecordingStream(b"9" * 200_000)
    answer = client.post(
        "/console/imports",
        input_stream=body,
        content_length=len(body.data),
        content_type="multipart/form-data; boundary=x",
    )
    assert answer.status_code == 413 and "The file is too large." in answer.get_data(as_text=True)
    assert body.largest_read == 0
    with app.app_context():
        assert db.session.scalars(select(ImportJob)).first() is None


def test_other_pages_keep_a_small_request_limit(app, staff):
    assert app.config["MAX_CONTENT_LENGTH"] <= 1024 * 1024 < app.config["IMPORT_MAX_BYTES"]
    client = logged_in_client(app, "adam")
    answer = client.post("/console/agents/new", data={"csrf_token": "x", "padding": "9" * (1024 * 1024 + 1)})
    assert answer.status_code == 413
    assert "larger than this site accepts" in answer.get_data(as_text=True)


def test_a_multi_chunk_upload_loads_exactly_as_the_command_line_loads_the_file(
    app, staff, runner, monkeypatch, tmp_path
):
    content = straddling_csv()
    assert_straddles(content, CHUNK)
    monkeypatch.setitem(app.config, "IMPORT_CHUNK_BYTES", CHUNK)
    client = logged_in_client(app, "adam")
    assert upload(client, content, name="office.csv").status_code == 302
    with app.app_context():
        job = db.session.scalars(select(ImportJob)).one()
        assert job.state == ImportState.done, job.error  # no Redis here: it ran inline
        assert job.total_lines == content.count(b"\n") - 1
        assert db.session.scalars(select(ImportChunk)).first() is None  # the chunks are gone
        uploaded = letters_and_rejections(job.id)
        assert job.added == len(uploaded[0]) > 0 and job.rejected_count == len(uploaded[1]) > 0
        path = tmp_path / "office.csv"
        path.write_bytes(content)
        result = runner.invoke(args=["transactions", "import", str(path)])
        cli_job = db.session.scalars(select(ImportJob).where(ImportJob.source == "cli")).one()
        # The same letters (all unchanged the second time), the same lines refused for the same reasons.
        assert (cli_job.added, cli_job.updated, cli_job.unchanged) == (0, 0, job.added), result.output
        assert letters_and_rejections(cli_job.id) == uploaded


def test_the_upload_is_read_a_chunk_at_a_time(app, staff, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_CHUNK_BYTES", 1024)
    client = logged_in_client(app, "adam")
    content = straddling_csv(rows=60)
    boundary, body = encode_multipart(
        {
            "csrf_token": csrf_token(client, "/console/imports"),
            "file": FileStorage(io.BytesIO(content), filename="big.csv"),
        }
    )
    stream = RecordingStream(body)
    assert len(body) > 8 * 1024
    answer = client.post(
        "/console/imports",
        input_stream=stream,
        content_length=len(body),
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert answer.status_code == 302
    assert 0 < stream.largest_read <= 1024 and stream.total_read == len(body)
    with app.app_context():
        job = db.session.scalars(select(ImportJob)).one()
        assert job.state == ImportState.done and job.processed == 60


def test_a_running_import_shows_its_rows_per_second_and_time_left(app, staff):
    from datetime import datetime, timezone

    client = logged_in_client(app, "adam")
    with app.app_context():
        job = ImportJob(
            filename="big.csv",
            source="console",
            requested_by="adam",
            state=ImportState.running,
            total_lines=100_000,
            processed=40_000,
            committed_line=40_001,
            rows_per_second=8000.0,
            started_at=datetime.now(timezone.utc),
        )
        db.session.add(job)
        db.session.commit()
        job_id = job.id
    status = client.get(f"/console/imports/{job_id}.json").json
    assert (status["rows_per_second"], status["seconds_left"], status["time_left"]) == (8000, 8, "0:08")
    page = client.get("/console/imports").get_data(as_text=True)
    assert "8000 rows/s, 0:08 left" in page
