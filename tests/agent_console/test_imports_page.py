"""Can an admin upload a CSV in the console and watch it load, and nobody else?"""
from __future__ import annotations

import io

from sqlalchemy import select

from extensions import db
from models import ImportJob, ImportState, Transaction
from tests.support.records import csrf_token, logged_in_client

CSV = ("number,date,direction,subject,sender,recipient,holder,status,status_date,phone\n"
       "9001,2024-03-15,to_federal,طلب,وزارة الداخلية في إقليم كوردستان,وزارة المالية الاتحادية,"
       "وزارة المالية الاتحادية,forwarded,2024-04-02,\n"
       "9002,2024-03-15,sideways,طلب,وزارة الداخلية في إقليم كوردستان,وزارة المالية الاتحادية,"
       "وزارة المالية الاتحادية,forwarded,2024-04-02,\n").encode()


def upload(client, content: bytes, name="june.csv"):
    return client.post("/console/imports", data={
        "csrf_token": csrf_token(client, "/console/imports"), "file": (io.BytesIO(content), name),
    }, content_type="multipart/form-data")


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


def test_an_upload_over_every_limit_is_refused_before_it_is_read(app, staff):
    client = logged_in_client(app, "adam")
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit > app.config["IMPORT_MAX_BYTES"]  # a file just over the import limit is told so by the page
    answer = upload(client, b"9" * (limit + 1))
    assert answer.status_code == 413
    assert "larger than this site accepts" in answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(ImportJob)).first() is None


def test_a_file_just_over_the_import_limit_is_told_on_the_page(app, staff, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 1000)  # the request limit stays larger
    client = logged_in_client(app, "adam")
    answer = upload(client, CSV + b"9" * 1000)
    assert answer.status_code == 302
    assert "The file is too large." in client.get("/console/imports").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(ImportJob)).first() is None


def test_a_running_import_shows_its_rows_per_second_and_time_left(app, staff):
    from datetime import datetime, timezone

    client = logged_in_client(app, "adam")
    with app.app_context():
        job = ImportJob(filename="big.csv", source="console", requested_by="adam", state=ImportState.running,
                        total_lines=100_000, processed=40_000, committed_line=40_001, rows_per_second=8000.0,
                        started_at=datetime.now(timezone.utc))
        db.session.add(job)
        db.session.commit()
        job_id = job.id
    status = client.get(f"/console/imports/{job_id}.json").json
    assert (status["rows_per_second"], status["seconds_left"], status["time_left"]) == (8000, 8, "0:08")
    page = client.get("/console/imports").get_data(as_text=True)
    assert "8000 rows/s, 0:08 left" in page
