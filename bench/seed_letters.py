"""Seed a dedicated PostgreSQL database with synthetic letters for the benchmarks.

    python -m bench.seed_letters [--letters 10k|1m|10m|N] [--database-url URL]

One database per size: hotline_bench_10k, hotline_bench_1m, hotline_bench_10m (the server
from BENCH_DATABASE_URL, or 127.0.0.1:5432 as postgres; --database-url names one exactly).
Creates the database when missing, runs the Alembic migrations exactly as an operator
would (`flask --app wsgi db upgrade`), loads entities and letters with COPY, ANALYZEs, and
writes a sample file of (number, date) pairs that exist (and pairs that do not) for the
load driver. Generation is seeded, so the same seed, count and end date give the same
letters. When the table already holds exactly N letters, loading is skipped.

The load is one transaction: TRUNCATE, drop the table's unique/foreign-key constraints and
secondary indexes, COPY, re-create them (one sort per index instead of ten million
inserts into each), VACUUM ANALYZE. Ten million letters take about 2.5 GB on disk.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
# The server and user; each size's database name replaces the one here.
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/hotline_bench"
SIZES = {"10k": 10_000, "1m": 1_000_000, "10m": 10_000_000}
EARLIEST = date(2000, 1, 1)
COPY_CHUNK_ROWS = 50_000
PROGRESS_ROWS = 1_000_000
MAINTENANCE_WORK_MEM = "512MB"  # index builds after COPY; the session's own setting only

# A few dozen entities on both sides. Synthetic bench data, not an official directory.
ENTITIES = [
    # code, Arabic, Sorani Kurdish, English
    (
        "fed-council-ministers",
        "الأمانة العامة لمجلس الوزراء",
        "ئەمینداریی گشتیی ئەنجومەنی وەزیران",
        "General Secretariat of the Council of Ministers",
    ),
    (
        "fed-pm-office",
        "مكتب رئيس مجلس الوزراء الاتحادي",
        "نووسینگەی سەرۆکی ئەنجومەنی وەزیرانی فیدراڵ",
        "Federal Prime Minister's Office",
    ),
    ("fed-finance", "وزارة المالية الاتحادية", "وەزارەتی دارایی فیدراڵ", "Federal Ministry of Finance"),
    ("fed-interior", "وزارة الداخلية الاتحادية", "وەزارەتی ناوخۆی فیدراڵ", "Federal Ministry of Interior"),
    ("fed-health", "وزارة الصحة الاتحادية", "وەزارەتی تەندروستی فیدراڵ", "Federal Ministry of Health"),
    ("fed-education", "وزارة التربية الاتحادية", "وەزارەتی پەروەردەی فیدراڵ", "Federal Ministry of Education"),
    (
        "fed-higher-education",
        "وزارة التعليم العالي والبحث العلمي الاتحادية",
        "وەزارەتی خوێندنی باڵای فیدراڵ",
        "Federal Ministry of Higher Education",
    ),
    ("fed-justice", "وزارة العدل الاتحادية", "وەزارەتی دادی فیدراڵ", "Federal Ministry of Justice"),
    ("fed-planning", "وزارة التخطيط الاتحادية", "وەزارەتی پلاندانانی فیدراڵ", "Federal Ministry of Planning"),
    ("fed-oil", "وزارة النفط الاتحادية", "وەزارەتی نەوتی فیدراڵ", "Federal Ministry of Oil"),
    ("fed-electricity", "وزارة الكهرباء الاتحادية", "وەزارەتی کارەبای فیدراڵ", "Federal Ministry of Electricity"),
    ("fed-agriculture", "وزارة الزراعة الاتحادية", "وەزارەتی کشتوکاڵی فیدراڵ", "Federal Ministry of Agriculture"),
    (
        "fed-water",
        "وزارة الموارد المائية الاتحادية",
        "وەزارەتی سەرچاوەکانی ئاوی فیدراڵ",
        "Federal Ministry of Water Resources",
    ),
    ("fed-trade", "وزارة التجارة الاتحادية", "وەزارەتی بازرگانی فیدراڵ", "Federal Ministry of Trade"),
    (
        "fed-labour",
        "وزارة العمل والشؤون الاجتماعية الاتحادية",
        "وەزارەتی کار و کاروباری کۆمەڵایەتی فیدراڵ",
        "Federal Ministry of Labour and Social Affairs",
    ),
    ("fed-transport", "وزارة النقل الاتحادية", "وەزارەتی گواستنەوەی فیدراڵ", "Federal Ministry of Transport"),
    ("fed-foreign", "وزارة الخارجية", "وەزارەتی دەرەوە", "Ministry of Foreign Affairs"),
    ("fed-defence", "وزارة الدفاع", "وەزارەتی بەرگری", "Ministry of Defence"),
    ("fed-migration", "وزارة الهجرة والمهجرين", "وەزارەتی کۆچ و کۆچبەران", "Ministry of Migration and Displacement"),
    ("fed-audit", "ديوان الرقابة المالية الاتحادي", "دیوانی چاودێریی داراییی فیدراڵ", "Federal Board of Supreme Audit"),
    (
        "krg-council-ministers",
        "الأمانة العامة لمجلس وزراء إقليم كوردستان",
        "ئەمینداریی گشتیی ئەنجومەنی وەزیرانی هەرێمی کوردستان",
        "KRG General Secretariat of the Council of Ministers",
    ),
    (
        "krg-pm-office",
        "مكتب رئيس مجلس وزراء إقليم كوردستان",
        "نووسینگەی سەرۆکی ئەنجومەنی وەزیرانی هەرێمی کوردستان",
        "KRG Prime Minister's Office",
    ),
    (
        "krg-finance",
        "وزارة المالية والاقتصاد - إقليم كوردستان",
        "وەزارەتی دارایی و ئابووری - هەرێمی کوردستان",
        "KRG Ministry of Finance and Economy",
    ),
    ("krg-interior", "وزارة الداخلية - إقليم كوردستان", "وەزارەتی ناوخۆ - هەرێمی کوردستان", "KRG Ministry of Interior"),
    ("krg-health", "وزارة الصحة - إقليم كوردستان", "وەزارەتی تەندروستی - هەرێمی کوردستان", "KRG Ministry of Health"),
    (
        "krg-education",
        "وزارة التربية - إقليم كوردستان",
        "وەزارەتی پەروەردە - هەرێمی کوردستان",
        "KRG Ministry of Education",
    ),
    (
        "krg-higher-education",
        "وزارة التعليم العالي والبحث العلمي - إقليم كوردستان",
        "وەزارەتی خوێندنی باڵا و توێژینەوەی زانستی - هەرێمی کوردستان",
        "KRG Ministry of Higher Education and Scientific Research",
    ),
    ("krg-justice", "وزارة العدل - إقليم كوردستان", "وەزارەتی داد - هەرێمی کوردستان", "KRG Ministry of Justice"),
    (
        "krg-planning",
        "وزارة التخطيط - إقليم كوردستان",
        "وەزارەتی پلاندانان - هەرێمی کوردستان",
        "KRG Ministry of Planning",
    ),
    (
        "krg-natural-resources",
        "وزارة الثروات الطبيعية - إقليم كوردستان",
        "وەزارەتی سامانە سروشتییەکان - هەرێمی کوردستان",
        "KRG Ministry of Natural Resources",
    ),
    (
        "krg-electricity",
        "وزارة الكهرباء - إقليم كوردستان",
        "وەزارەتی کارەبا - هەرێمی کوردستان",
        "KRG Ministry of Electricity",
    ),
    (
        "krg-agriculture",
        "وزارة الزراعة والموارد المائية - إقليم كوردستان",
        "وەزارەتی کشتوکاڵ و سەرچاوەکانی ئاو - هەرێمی کوردستان",
        "KRG Ministry of Agriculture and Water Resources",
    ),
    (
        "krg-trade",
        "وزارة التجارة والصناعة - إقليم كوردستان",
        "وەزارەتی بازرگانی و پیشەسازی - هەرێمی کوردستان",
        "KRG Ministry of Trade and Industry",
    ),
    (
        "krg-labour",
        "وزارة العمل والشؤون الاجتماعية - إقليم كوردستان",
        "وەزارەتی کار و کاروباری کۆمەڵایەتی - هەرێمی کوردستان",
        "KRG Ministry of Labour and Social Affairs",
    ),
    (
        "krg-transport",
        "وزارة النقل والمواصلات - إقليم كوردستان",
        "وەزارەتی گواستنەوە و گەیاندن - هەرێمی کوردستان",
        "KRG Ministry of Transport and Communications",
    ),
    ("krg-peshmerga", "وزارة شؤون البيشمركة", "وەزارەتی کاروباری پێشمەرگە", "KRG Ministry of Peshmerga Affairs"),
    (
        "krg-dfr",
        "دائرة العلاقات الخارجية - إقليم كوردستان",
        "فەرمانگەی پەیوەندییەکانی دەرەوە - هەرێمی کوردستان",
        "KRG Department of Foreign Relations",
    ),
    (
        "krg-audit",
        "ديوان الرقابة المالية - إقليم كوردستان",
        "دیوانی چاودێریی دارایی - هەرێمی کوردستان",
        "KRG Board of Supreme Audit",
    ),
    ("krg-erbil", "محافظة أربيل", "پارێزگای هەولێر", "Erbil Governorate"),
    ("krg-sulaymaniyah", "محافظة السليمانية", "پارێزگای سلێمانی", "Sulaymaniyah Governorate"),
    ("krg-duhok", "محافظة دهوك", "پارێزگای دهۆک", "Duhok Governorate"),
    ("krg-halabja", "محافظة حلبجة", "پارێزگای هەڵەبجە", "Halabja Governorate"),
]

SUBJECTS = [
    "بشأن تمويل رواتب الموظفين",
    "بشأن تخصيصات الموازنة",
    "بشأن نقل خدمات موظف",
    "بشأن مشروع إعادة تأهيل",
    "بشأن استيراد مواد",
    "بشأن تعادل شهادة دراسية",
    "بشأن طلب معلومات",
    "بشأن تسوية مستحقات",
    "بشأن تنسيق إداري",
    "بشأن عقد توريد",
]
STATUSES = ["received", "under_review", "forwarded", "awaiting_reply", "replied", "returned"]
STATUS_WEIGHTS = [15, 25, 25, 15, 15, 5]
# Letter numbers: every length from 1 to 12 digits, mostly 4 to 9 as in real registers.
LENGTHS = list(range(1, 13))
LENGTH_WEIGHTS = [0.5, 1, 2, 6, 12, 20, 18, 14, 10, 7, 5, 4.5]
TWIN_SHARE = 0.02  # letters that share number and date with one in the other direction
PHONE_SHARE = 0.3
COLUMNS = (
    "number",
    "date",
    "direction",
    "subject",
    "sender_id",
    "recipient_id",
    "holder_id",
    "status",
    "status_date",
    "citizen_phone",
    "created_at",
    "updated_at",
)


def libpq_url(url: str, database: str | None = None) -> str:
    """A SQLAlchemy URL (postgresql+psycopg://...) as a plain libpq URL for psycopg."""
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def letter_count(text: str) -> int:
    """ "10k", "1m", "10m" or a plain number (underscores allowed)."""
    return SIZES.get(text.lower()) or int(text.replace("_", ""))


def size_label(letters: int) -> str:
    return next((label for label, count in SIZES.items() if count == letters), str(letters))


def database_url_for(letters: int, server_url: str | None = None) -> str:
    """The bench database for this many letters, on the server of BENCH_DATABASE_URL (or the default)."""
    server_url = server_url or os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    return (
        make_url(server_url).set(database=f"hotline_bench_{size_label(letters)}").render_as_string(hide_password=False)
    )


def sample_file_for(letters: int) -> Path:
    return RESULTS_DIR / f"letters_sample_{size_label(letters)}.csv"


def ensure_database(url: str) -> bool:
    """Create the benchmark database when it does not exist; True when created."""
    name = make_url(url).database
    with psycopg.connect(libpq_url(url, "postgres"), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return False
        conn.execute(f'CREATE DATABASE "{name}"')
    return True


def run_migrations(url: str, app_dir: Path = ROOT) -> None:
    """The schema comes from the project's own Alembic migrations, as in production."""
    env = {**os.environ, "DATABASE_URL": url, "APP_ENV": "development"}
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=app_dir,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def load_entities(conn) -> dict[str, int]:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO entity (code, name_ar, name_ckb, name_en) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (code) DO NOTHING",
            ENTITIES,
        )
    return dict(conn.execute("SELECT code, id FROM entity").fetchall())


def letter_rows(count: int, seed: int, until: date, entity_ids: dict[str, int]):
    """Yield `count` COPY text lines of distinct (number, date, direction) letters."""
    rng = random.Random(seed)
    federal = [entity_ids[code] for code, *_ in ENTITIES if code.startswith("fed-")]
    region = [entity_ids[code] for code, *_ in ENTITIES if code.startswith("krg-")]
    span = (until - EARLIEST).days
    taken: set[int] = set()
    recent: list[tuple[str, int]] = []  # a few (number, day) pairs to make twins from
    lengths = rng.choices(LENGTHS, LENGTH_WEIGHTS, k=count)
    statuses = rng.choices(STATUSES, STATUS_WEIGHTS, k=count)
    made = 0
    while made < count:
        if recent and rng.random() < TWIN_SHARE:
            number, day = recent[rng.randrange(len(recent))]
            direction = rng.randrange(2)
        else:
            length = lengths[made]
            number = str(rng.randrange(10 ** (length - 1) if length > 1 else 1, 10**length))
            day = rng.randrange(span + 1)
            direction = rng.randrange(2)
        key = ((int(number) << 15) + day) * 2 + direction
        if key in taken:
            other = key ^ 1  # the same letter in the other direction, if free
            if other in taken:
                continue
            key, direction = other, direction ^ 1
        taken.add(key)
        if len(recent) < 1000:
            recent.append((number, day))
        else:
            recent[rng.randrange(1000)] = (number, day)

        status = statuses[made]
        if direction == 0:  # to_federal: from the Region to Baghdad
            sender, recipient, recipient_side = rng.choice(region), rng.choice(federal), federal
        else:
            sender, recipient, recipient_side = rng.choice(federal), rng.choice(region), region
        if status in ("replied", "returned"):
            holder = sender
        elif status == "forwarded":
            holder = rng.choice(recipient_side)
        else:
            holder = recipient
        on = EARLIEST + timedelta(days=day)
        status_on = on + timedelta(days=min(rng.randrange(0, 120), (until - on).days))
        phone = f"+9647{rng.randrange(50, 80)}{rng.randrange(10**7):07d}" if rng.random() < PHONE_SHARE else "\\N"
        created = f"{on.isoformat()} 09:{rng.randrange(60):02d}:00+00"
        updated = f"{status_on.isoformat()} 12:00:00+00"
        yield (
            f"{number}\t{on.isoformat()}\t{'to_federal' if direction == 0 else 'to_region'}\t"
            f"{rng.choice(SUBJECTS)}\t{sender}\t{recipient}\t{holder}\t{status}\t"
            f"{status_on.isoformat()}\t{phone}\t{created}\t{updated}\n"
        )
        made += 1


def deferred_constraints(conn) -> tuple[list[str], list[str]]:
    """The letters table's unique/foreign-key constraints and plain indexes, as DDL to drop and re-create.

    The primary key stays: other tables' foreign keys hang on it, and an index on an
    increasing id costs little during COPY. Everything else is built once after the load,
    which is much faster than maintaining it row by row (and avoids a foreign-key trigger
    per row)."""
    drops, creates = [], []
    for name, definition in conn.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = '\"transaction\"'::regclass AND contype IN ('u', 'f') ORDER BY contype DESC, conname"
    ).fetchall():
        drops.append(f'ALTER TABLE "transaction" DROP CONSTRAINT "{name}"')
        creates.append(f'ALTER TABLE "transaction" ADD CONSTRAINT "{name}" {definition}')
    for name, definition in conn.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
        " WHERE x.indrelid = '\"transaction\"'::regclass"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)"
    ).fetchall():
        drops.append(f'DROP INDEX "{name}"')
        creates.append(definition)
    return drops, creates


def load_letters(conn, count: int, seed: int, until: date, entity_ids: dict[str, int], log=print) -> dict:
    """Empty the letters table and COPY `count` letters in, in one transaction; returns timings.

    An interrupted load rolls back to the table as it was."""
    conn.execute("SET synchronous_commit = off")
    conn.execute(f"SET maintenance_work_mem = '{MAINTENANCE_WORK_MEM}'")
    # Empties the letters and everything that points at them (calls of earlier runs).
    conn.execute('TRUNCATE "transaction" RESTART IDENTITY CASCADE')
    drops, creates = deferred_constraints(conn)
    for statement in drops:
        conn.execute(statement)
    t0 = time.perf_counter()
    sql = f'COPY "transaction" ({", ".join(COLUMNS)}) FROM STDIN'
    with conn.cursor() as cur, cur.copy(sql) as copy:
        chunk: list[str] = []
        for made, line in enumerate(letter_rows(count, seed, until, entity_ids), 1):
            chunk.append(line)
            if len(chunk) >= COPY_CHUNK_ROWS:
                copy.write("".join(chunk).encode())
                chunk.clear()
                if made % PROGRESS_ROWS == 0:
                    log(f"seed: {made:,} / {count:,} letters ({time.perf_counter() - t0:.0f} s)")
        if chunk:
            copy.write("".join(chunk).encode())
    copy_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for statement in creates:
        conn.execute(statement)
    conn.commit()
    return {"copy_s": round(copy_s, 1), "constraints_s": round(time.perf_counter() - t0, 1), "deferred": len(creates)}


def write_samples(conn, path: Path, found: int, missing: int, seed: int, until: date) -> dict:
    """Pairs that exist with exactly one letter (no direction question), and pairs that do not."""
    rng = random.Random(seed + 1)
    low, high = conn.execute('SELECT min(id), max(id) FROM "transaction"').fetchone()
    ids = [rng.randint(low, high) for _ in range(int(found * 1.2) + 100)]
    found_rows = conn.execute(
        'SELECT t.number, t.date FROM "transaction" t WHERE t.id = ANY(%s) AND NOT EXISTS ('
        ' SELECT 1 FROM "transaction" o WHERE o.number = t.number AND o.date = t.date AND o.id <> t.id)'
        " ORDER BY t.id",
        (ids,),
    ).fetchall()[:found]
    span = (until - EARLIEST).days
    numbers = [str(rng.randrange(10**11, 10**12)) for _ in range(missing)]
    days = [EARLIEST + timedelta(days=rng.randrange(span)) for _ in range(missing)]
    missing_rows = conn.execute(
        "SELECT c.number, c.date FROM unnest(%s::text[], %s::date[]) AS c(number, date)"
        ' WHERE NOT EXISTS (SELECT 1 FROM "transaction" t WHERE t.number = c.number AND t.date = c.date)',
        (numbers, days),
    ).fetchall()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["kind", "number", "date"])
        writer.writerows(("found", n, d.isoformat()) for n, d in found_rows)
        writer.writerows(("missing", n, d.isoformat()) for n, d in missing_rows)
    return {"found": len(found_rows), "missing": len(missing_rows)}


def read_samples(path: Path) -> tuple[list[tuple[str, date]], list[tuple[str, date]]]:
    found, missing = [], []
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            pair = (row["number"], date.fromisoformat(row["date"]))
            (found if row["kind"] == "found" else missing).append(pair)
    return found, missing


def seed(
    url: str | None = None,
    letters: int = 1_000_000,
    seed_value: int = 5599,
    until: date | None = None,
    sample_file: Path | None = None,
    sample_found: int = 20_000,
    sample_missing: int = 10_000,
    app_dir: Path = ROOT,
    log=print,
) -> dict:
    """Make sure the database holds `letters` letters; returns what was done and how long it took."""
    url = url or database_url_for(letters)
    sample_file = sample_file or sample_file_for(letters)
    until = until or datetime.now(ZoneInfo("Asia/Baghdad")).date()
    started = time.perf_counter()
    created = ensure_database(url)
    run_migrations(url, app_dir)
    report = {
        "database": make_url(url).database,
        "created": created,
        "letters": letters,
        "seed": seed_value,
        "until": until.isoformat(),
    }
    with psycopg.connect(libpq_url(url)) as conn:
        existing = conn.execute('SELECT count(*) FROM "transaction"').fetchone()[0]
        if existing == letters:
            log(f"seed: {existing:,} letters already loaded, skipping")
            report["loaded"] = False
        else:
            log(f"seed: loading {letters:,} letters (table held {existing:,}) ...")
            entity_ids = load_entities(conn)
            conn.commit()
            report.update(load_letters(conn, letters, seed_value, until, entity_ids, log))
            t0 = time.perf_counter()
            conn.autocommit = True
            conn.execute('VACUUM (ANALYZE) "transaction"')
            conn.execute("ANALYZE entity")
            conn.autocommit = False
            report["analyze_s"] = round(time.perf_counter() - t0, 1)
            report["loaded"] = True
            log(
                f"seed: COPY {report['copy_s']} s, indexes and constraints {report['constraints_s']} s, "
                f"VACUUM ANALYZE {report['analyze_s']} s"
            )
        report["entities"] = conn.execute("SELECT count(*) FROM entity").fetchone()[0]
        report["samples"] = write_samples(conn, sample_file, sample_found, sample_missing, seed_value, until)
        report["disk_mb"] = {
            "database": round(conn.execute("SELECT pg_database_size(current_database())").fetchone()[0] / 2**20),
            "letters_table": round(conn.execute("SELECT pg_relation_size('\"transaction\"')").fetchone()[0] / 2**20),
            "letters_indexes": round(conn.execute("SELECT pg_indexes_size('\"transaction\"')").fetchone()[0] / 2**20),
        }
    report["seconds"] = round(time.perf_counter() - started, 1)
    log(
        f"seed: ready in {report['seconds']} s; samples {report['samples']} in {sample_file.name}; "
        f"on disk {report['disk_mb']} MiB"
    )
    return report


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--letters",
        type=letter_count,
        nargs="+",
        default=[1_000_000],
        help="10k, 1m, 10m or a number; several sizes seed several databases",
    )
    parser.add_argument(
        "--database-url", default=None, help="default: hotline_bench_<size> on the server of BENCH_DATABASE_URL"
    )
    parser.add_argument("--seed", type=int, default=5599)
    parser.add_argument(
        "--until", type=date.fromisoformat, default=None, help="latest letter date (default: today in Baghdad)"
    )
    parser.add_argument("--sample-file", type=Path, default=None, help="default: results/letters_sample_<size>.csv")
    parser.add_argument(
        "--app-ref", default=None, help="run the migrations of this git commit (default: the working tree)"
    )
    return parser.parse_args(argv)


def main(argv=None) -> None:
    from bench.checkout import app_code

    args = parse_args(argv)
    if args.database_url and len(args.letters) > 1:
        sys.exit("--database-url names one database: give one --letters size with it")
    code = app_code(args.app_ref)
    try:
        for letters in args.letters:
            seed(
                args.database_url or database_url_for(letters),
                letters,
                args.seed,
                args.until,
                args.sample_file or sample_file_for(letters),
                app_dir=code.path,
            )
    finally:
        code.cleanup()


if __name__ == "__main__":
    main()
