"""Is an upload stored in chunks as it arrives, read back whole, and never left behind?"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from domain.clock import utcnow
from domain.letters.import_jobs import (
    UploadTooLarge,
    delete_chunks,
    purge_abandoned_uploads,
    start_import,
    store_chunks,
    uploaded_file,
)
from domain.letters.importing import read_csv
from extensions import db
from jobs.housekeeping import purge_retention, requeue_imports
from models import ImportChunk, ImportJob, ImportState
from tests.support.uploads import CHUNK, assert_straddles, straddling_csv


def chunks() -> int:
    return db.session.scalar(select(func.count()).select_from(ImportChunk))


def stored(content: bytes, chunk: int = CHUNK, **fields) -> int:
    job = ImportJob(filename="office.csv", source="api", requested_by="test", **fields)
    db.session.add(job)
    db.session.commit()
    store_chunks(job.id, [content[i : i + 7] for i in range(0, len(content), 7)], chunk)
    return job.id


def test_the_chunks_read_back_as_the_file_reads(app, app_context):
    content = straddling_csv()
    assert_straddles(content, CHUNK)
    import_id = stored(content)
    assert chunks() == -(-len(content) // CHUNK)
    assert max(len(data) for data in db.session.scalars(select(ImportChunk.data))) == CHUNK
    with uploaded_file(import_id) as stream:
        assert stream.read() == content
    with uploaded_file(import_id) as stream:
        assert list(read_csv(stream)) == list(read_csv(io.BytesIO(content)))


def test_chunks_are_deleted_in_slices(app, app_context):
    import_id = stored(straddling_csv(rows=40), chunk=16)
    assert chunks() > 16 * 3
    assert delete_chunks(import_id) > 16 * 3 and chunks() == 0


def test_an_upload_that_breaks_off_leaves_nothing(app, app_context):
    def pieces():
        yield straddling_csv()
        raise ConnectionResetError("the client went away")

    with pytest.raises(ConnectionResetError):
        start_import(pieces(), filename="x.csv", source="api", requested_by="test")
    assert chunks() == 0 and db.session.scalar(select(func.count()).select_from(ImportJob)) == 0


def test_an_upload_over_the_limit_leaves_nothing(app, app_context, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 500)
    monkeypatch.setitem(app.config, "IMPORT_CHUNK_BYTES", 50)
    content = straddling_csv()
    with pytest.raises(UploadTooLarge):
        start_import(
            (content[i : i + 50] for i in range(0, len(content), 50)),
            filename="x.csv",
            source="api",
            requested_by="test",
        )
    assert chunks() == 0 and db.session.scalar(select(func.count()).select_from(ImportJob)) == 0


def test_an_upload_still_arriving_is_not_run_and_one_abandoned_is_purged(app, app_context):
    arriving = stored(straddling_csv())  # no SHA-256 yet: its last chunk is not stored
    abandoned = stored(straddling_csv(), created_at=utcnow() - timedelta(hours=25))
    ended = stored(straddling_csv(), state=ImportState.done, file_sha256="0" * 64)
    assert requeue_imports(utcnow() + timedelta(hours=2)) == 0
    assert purge_retention()["abandoned_uploads"] == 2
    db.session.expire_all()
    assert db.session.get(ImportJob, abandoned).state == ImportState.failed
    assert db.session.get(ImportJob, ended).state == ImportState.done
    assert db.session.scalars(select(ImportChunk.import_id).distinct()).all() == [arriving]
    assert purge_abandoned_uploads(utcnow(), 24) == 0
