"""A CSV whose lines and multi-byte characters straddle small chunks, and a request body that
records how much the app reads from it at once: shared by the console's and the API's upload tests."""

from __future__ import annotations

import io

from sqlalchemy import select

from extensions import db
from models import ImportRejection, Transaction

CHUNK = 61  # bytes: small and odd, so chunk boundaries fall inside lines and inside Arabic letters
HEADER = "number,date,direction,subject,sender,recipient,holder,status,status_date,phone\n"
SENDER, RECIPIENT = "وزارة الداخلية في إقليم كوردستان", "وزارة المالية الاتحادية"


def straddling_csv(rows: int = 12) -> bytes:
    """A byte order mark, Arabic names, a subject over two lines, a refused row and a repeated key."""
    lines = [
        f'{5000 + n},2024-03-15,to_federal,"طلب رقم {n}",{SENDER},{RECIPIENT},{RECIPIENT},forwarded,2024-04-02,\n'
        for n in range(rows)
    ]
    lines[2] = f'5002,2024-03-15,to_federal,"طلب\nعلى سطرين",{SENDER},{RECIPIENT},{RECIPIENT},replied,2024-04-02,\n'
    lines[4] = f"5004,2024-03-15,sideways,طلب,{SENDER},{RECIPIENT},{RECIPIENT},forwarded,2024-04-02,\n"
    lines[6] = lines[1]  # the same key again: refused, naming its first line
    return ("\ufeff" + HEADER + "".join(lines)).encode("utf-8")


def assert_straddles(content: bytes, chunk: int) -> None:
    """Some chunk boundary cuts a line, and some cuts a UTF-8 character in two."""
    cuts = range(chunk, len(content), chunk)
    assert any(content[cut - 1 : cut] != b"\n" for cut in cuts)
    assert any(0x80 <= content[cut] <= 0xBF for cut in cuts), "no boundary inside a multi-byte character"


def letters_and_rejections(import_id: int) -> tuple[list, list]:
    letters = db.session.execute(
        select(
            Transaction.number,
            Transaction.date,
            Transaction.direction,
            Transaction.subject,
            Transaction.status,
            Transaction.holder_id,
        ).order_by(Transaction.number)
    ).all()
    rejected = db.session.execute(
        select(ImportRejection.line, ImportRejection.reason)
        .where(ImportRejection.import_id == import_id)
        .order_by(ImportRejection.line)
    ).all()
    return [tuple(letter) for letter in letters], [tuple(row) for row in rejected]


class RecordingStream(io.RawIOBase):
    """A request body that remembers the largest read the app asked of it."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self.data, self.position, self.largest_read, self.total_read = data, 0, 0, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        return len(self._take(len(buffer), buffer))

    def read(self, size: int = -1) -> bytes:
        return bytes(self._take(len(self.data) if size is None or size < 0 else size))

    def seekable(self) -> bool:  # the test client measures the body with tell() and seek()
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self.position = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: len(self.data)}[whence] + offset
        return self.position

    def readline(self, size: int | None = -1) -> bytes:
        raise AssertionError("the upload is read in chunks, not by line")

    def _take(self, size: int, buffer=None):
        self.largest_read = max(self.largest_read, size)
        piece = self.data[self.position : self.position + size]
        self.position += len(piece)
        self.total_read += len(piece)
        if buffer is not None:
            buffer[: len(piece)] = piece
        return piece
