"""Does a CSV sent to /api/v1/imports load as a job, with progress kept on its row, and notify subscribers?"""

from __future__ import annotations

from sqlalchemy import func, select

from domain.sms import subscribe
from extensions import db
from models import ImportChunk, ImportJob, ImportState, SmsMessage, Transaction
from tests.support.jobs import run_worker, worker_env
from tests.support.uploads import CHUNK, RecordingStream, assert_straddles, letters_and_rejections, straddling_csv

HEADER = "number,date,direction,subject,sender,recipient,holder,status,status_date,phone\n"


def csv_of(*rows: str) -> bytes:
    return (HEADER + "".join(row + "\n" for row in rows)).encode("utf-8")


def row(number="7001", status="forwarded", holder="وزارة المالية الاتحادية") -> str:
    sender, recipient = "وزارة الداخلية في إقليم كوردستان", "وزارة المالية الاتحادية"
    return f"{number},2024-03-15,to_federal,طلب,{sender},{recipient},{holder},{status},2024-04-02,"


def send(client, auth, content: bytes, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return client.post(f"/api/v1/imports?{query}", data=content, headers={**auth, "Content-Type": "text/csv"})


def test_an_import_runs_and_reports_its_progress(client, auth):
    answer = send(client, auth, csv_of(row("7001"), row("7002"), "bad,line"), filename="office.csv")
    assert answer.status_code == 202
    progress = client.get(answer.headers["Location"], headers=auth).json
    # No Redis in this test: the job ran inline, before the answer.
    assert progress["state"] == "done" and progress["filename"] == "office.csv"
    assert (progress["added"], progress["rejected"], progress["processed"]) == (2, 1, 3)
    assert progress["rejected_lines"][0]["line"] == 4
    assert db.session.scalar(select(func.count()).select_from(ImportChunk)) == 0  # the file is not kept


def test_a_wrong_header_is_refused_at_once(client, auth):
    answer = send(client, auth, b"number,date\n1,2024-01-01\n")
    assert answer.status_code == 400 and "wrong header" in answer.json["message"]
    assert send(client, auth, b"").status_code == 400
    assert db.session.scalar(select(func.count()).select_from(ImportJob)) == 0


def test_an_unknown_import_is_404(client, auth):
    assert client.get("/api/v1/imports/999", headers=auth).status_code == 404


def test_a_status_change_by_csv_notifies_subscribers(client, auth, sms_api):
    send(client, auth, csv_of(row("7001")))
    letter = db.session.scalars(select(Transaction)).one()
    subscribe(phone="+9647501234567", transaction=letter, language="en")
    db.session.commit()
    send(client, auth, csv_of(row("7001", status="replied")))
    message = db.session.scalars(select(SmsMessage)).one()
    assert message.to_phone == "+9647501234567" and "was answered" in message.body
    assert len(sms_api.messages_sent()) == 1


def test_the_cli_import_notifies_subscribers_too(app, runner, app_context, tmp_path, sms_api):
    path = tmp_path / "letters.csv"
    path.write_bytes(csv_of(row("7001")))
    assert runner.invoke(args=["transactions", "import", str(path)]).exit_code == 0
    letter = db.session.scalars(select(Transaction)).one()
    subscribe(phone="+9647501234567", transaction=letter, language="ar")
    db.session.commit()
    path.write_bytes(csv_of(row("7001", holder="وزارة التخطيط الاتحادية")))
    result = runner.invoke(args=["transactions", "import", str(path)])
    assert "notifications queued: 1" in result.output
    assert len(sms_api.messages_sent()) == 1


def test_an_import_is_run_by_a_real_worker(app, client, auth, database_url, redis_url, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_CHUNK_BYTES", 4096)
    answer = send(client, auth, csv_of(*(row(str(8000 + n)) for n in range(1200))))
    job_id = answer.json["id"]
    assert answer.json["state"] == "pending"
    assert db.session.scalar(select(func.count()).select_from(ImportChunk)) > 10  # any worker reads them
    db.session.remove()
    run_worker(worker_env(app, database_url, redis_url, "http://127.0.0.1:1"), "imports")
    progress = client.get(f"/api/v1/imports/{job_id}", headers=auth).json
    assert progress["state"] == "done" and progress["added"] == 1200 and progress["processed"] == 1200
    assert db.session.get(ImportJob, job_id).state == ImportState.done
    assert db.session.scalar(select(func.count()).select_from(ImportChunk)) == 0


def test_a_multi_chunk_upload_loads_exactly_as_the_command_line_loads_the_file(
    app, client, auth, runner, monkeypatch, tmp_path
):
    content = straddling_csv()
    assert_straddles(content, CHUNK)
    monkeypatch.setitem(app.config, "IMPORT_CHUNK_BYTES", CHUNK)
    answer = send(client, auth, content, filename="office.csv")
    assert answer.status_code == 202
    job = db.session.get(ImportJob, answer.json["id"])
    assert job.state == ImportState.done, job.error  # no Redis here: it ran inline
    assert db.session.scalar(select(func.count()).select_from(ImportChunk)) == 0
    uploaded = letters_and_rejections(job.id)
    assert job.added == len(uploaded[0]) > 0 and job.rejected_count == len(uploaded[1]) > 0
    path = tmp_path / "office.csv"
    path.write_bytes(content)
    result = runner.invoke(args=["transactions", "import", str(path)])
    cli_job = db.session.scalars(select(ImportJob).where(ImportJob.source == "cli")).one()
    assert (cli_job.added, cli_job.updated, cli_job.unchanged) == (0, 0, job.added), result.output
    assert letters_and_rejections(cli_job.id) == uploaded
    assert cli_job.file_sha256 == job.file_sha256 and cli_job.total_lines == job.total_lines


def test_the_body_is_read_a_chunk_at_a_time(app, client, auth, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_CHUNK_BYTES", 1024)
    content = straddling_csv(rows=60)
    stream = RecordingStream(content)
    assert len(content) > 8 * 1024
    answer = client.post(
        "/api/v1/imports",
        input_stream=stream,
        content_length=len(content),
        headers={**auth, "Content-Type": "text/csv"},
    )
    assert answer.status_code == 202
    assert 0 < stream.largest_read <= 1024 and stream.total_read == len(content)
    assert db.session.get(ImportJob, answer.json["id"]).processed == 60


def test_a_file_over_the_limit_is_a_413_that_leaves_nothing_behind(app, client, auth, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 1000)
    monkeypatch.setitem(app.config, "IMPORT_CHUNK_BYTES", 100)
    content = csv_of(*(row(str(7000 + n)) for n in range(20)))
    answer = send(client, auth, content)  # its Content-Length says so: refused before it is read
    assert answer.status_code == 413 and answer.json["error"] == "file_too_large"
    assert "IMPORT_MAX_BYTES" in answer.json["message"]
    # Without a Content-Length (chunked), found out once chunks are stored: they go.
    answer = client.post(
        "/api/v1/imports",
        input_stream=RecordingStream(content),
        headers={**auth, "Content-Type": "text/csv", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""},
    )
    assert answer.status_code == 413, answer.json
    assert db.session.scalar(select(func.count()).select_from(ImportJob)) == 0
    assert db.session.scalar(select(func.count()).select_from(ImportChunk)) == 0
