"""Demo data: real-sounding ministries of both governments and letters with their histories.

The letters are generated deterministically from a seed and then loaded through the batch
importer, one "delivery" per step of their histories, exactly as the records office would
send status changes; so the demo exercises the real upsert and makes real TransactionEvents.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import delete, exists, func, select, update

from domain.clock import local_today
from domain.letters.importing import import_rows
from domain.sms import DEMO_SOURCE
from extensions import db
from models import Direction, Entity, Status, Transaction, TransactionEvent

SOURCE = DEMO_SOURCE  # TransactionEvent.source of every demo change: how demo letters are known
FEDERAL, REGION = "fed", "krg"


@dataclass(frozen=True)
class DemoEntity:
    code: str
    name_ar: str
    name_ckb: str
    name_en: str

    @property
    def government(self) -> str:
        return self.code.split("-", 1)[0]


ENTITIES = (
    # Federal government, Baghdad
    DemoEntity(
        "fed-com-secretariat",
        "الأمانة العامة لمجلس الوزراء",
        "ئەمینداریەتیی گشتیی ئەنجومەنی وەزیران",
        "General Secretariat of the Council of Ministers",
    ),
    DemoEntity(
        "fed-pm-office", "مكتب رئيس مجلس الوزراء", "نووسینگەی سەرۆکی ئەنجومەنی وەزیران", "Office of the Prime Minister"
    ),
    DemoEntity("fed-finance", "وزارة المالية الاتحادية", "وەزارەتی دارایی فیدراڵ", "Federal Ministry of Finance"),
    DemoEntity("fed-planning", "وزارة التخطيط الاتحادية", "وەزارەتی پلاندانانی فیدراڵ", "Federal Ministry of Planning"),
    DemoEntity("fed-oil", "وزارة النفط الاتحادية", "وەزارەتی نەوتی فیدراڵ", "Federal Ministry of Oil"),
    DemoEntity("fed-interior", "وزارة الداخلية الاتحادية", "وەزارەتی ناوخۆی فیدراڵ", "Federal Ministry of Interior"),
    DemoEntity("fed-defence", "وزارة الدفاع الاتحادية", "وەزارەتی بەرگریی فیدراڵ", "Federal Ministry of Defence"),
    DemoEntity("fed-foreign", "وزارة الخارجية", "وەزارەتی دەرەوە", "Ministry of Foreign Affairs"),
    DemoEntity("fed-justice", "وزارة العدل الاتحادية", "وەزارەتی دادی فیدراڵ", "Federal Ministry of Justice"),
    DemoEntity("fed-health", "وزارة الصحة الاتحادية", "وەزارەتی تەندروستیی فیدراڵ", "Federal Ministry of Health"),
    DemoEntity(
        "fed-education", "وزارة التربية الاتحادية", "وەزارەتی پەروەردەی فیدراڵ", "Federal Ministry of Education"
    ),
    DemoEntity(
        "fed-higher-education",
        "وزارة التعليم العالي والبحث العلمي الاتحادية",
        "وەزارەتی خوێندنی باڵا و توێژینەوەی زانستیی فیدراڵ",
        "Federal Ministry of Higher Education and Scientific Research",
    ),
    DemoEntity(
        "fed-electricity", "وزارة الكهرباء الاتحادية", "وەزارەتی کارەبای فیدراڵ", "Federal Ministry of Electricity"
    ),
    DemoEntity(
        "fed-water",
        "وزارة الموارد المائية الاتحادية",
        "وەزارەتی سەرچاوەکانی ئاوی فیدراڵ",
        "Federal Ministry of Water Resources",
    ),
    DemoEntity(
        "fed-agriculture", "وزارة الزراعة الاتحادية", "وەزارەتی کشتوکاڵی فیدراڵ", "Federal Ministry of Agriculture"
    ),
    DemoEntity("fed-trade", "وزارة التجارة الاتحادية", "وەزارەتی بازرگانیی فیدراڵ", "Federal Ministry of Trade"),
    DemoEntity(
        "fed-labour",
        "وزارة العمل والشؤون الاجتماعية الاتحادية",
        "وەزارەتی کار و کاروباری کۆمەڵایەتیی فیدراڵ",
        "Federal Ministry of Labour and Social Affairs",
    ),
    DemoEntity(
        "fed-construction",
        "وزارة الإعمار والإسكان والبلديات العامة",
        "وەزارەتی ئاوەدانکردنەوە و نیشتەجێکردن و شارەوانییە گشتییەکان",
        "Ministry of Construction, Housing and Public Municipalities",
    ),
    DemoEntity("fed-transport", "وزارة النقل الاتحادية", "وەزارەتی گواستنەوەی فیدراڵ", "Federal Ministry of Transport"),
    DemoEntity(
        "fed-migration", "وزارة الهجرة والمهجرين", "وەزارەتی کۆچ و کۆچبەران", "Ministry of Migration and Displacement"
    ),
    DemoEntity(
        "fed-audit",
        "ديوان الرقابة المالية الاتحادي",
        "دیوانی چاودێریی داراییی فیدراڵ",
        "Federal Board of Supreme Audit",
    ),
    DemoEntity("fed-retirement", "هيئة التقاعد الوطنية", "دەستەی نیشتمانیی خانەنشینی", "National Retirement Authority"),
    DemoEntity("fed-customs", "الهيئة العامة للكمارك", "دەستەی گشتیی گومرگ", "General Commission of Customs"),
    DemoEntity("fed-cbi", "البنك المركزي العراقي", "بانکی ناوەندیی عێراق", "Central Bank of Iraq"),
    # Kurdistan Regional Government, Erbil
    DemoEntity(
        "krg-com", "مجلس وزراء إقليم كوردستان", "ئەنجومەنی وەزیرانی هەرێمی کوردستان", "KRG Council of Ministers"
    ),
    DemoEntity(
        "krg-rep-baghdad",
        "ممثلية حكومة إقليم كوردستان في بغداد",
        "نوێنەرایەتیی حکومەتی هەرێمی کوردستان لە بەغدا",
        "KRG Representation in Baghdad",
    ),
    DemoEntity(
        "krg-coordination",
        "دائرة التنسيق والمتابعة في حكومة إقليم كوردستان",
        "فەرمانگەی هەماهەنگی و بەدواداچوون",
        "KRG Department of Coordination and Follow-up",
    ),
    DemoEntity(
        "krg-finance",
        "وزارة المالية والاقتصاد في إقليم كوردستان",
        "وەزارەتی دارایی و ئابووری",
        "KRG Ministry of Finance and Economy",
    ),
    DemoEntity("krg-planning", "وزارة التخطيط في إقليم كوردستان", "وەزارەتی پلاندانان", "KRG Ministry of Planning"),
    DemoEntity(
        "krg-natural-resources",
        "وزارة الثروات الطبيعية في إقليم كوردستان",
        "وەزارەتی سامانە سروشتییەکان",
        "KRG Ministry of Natural Resources",
    ),
    DemoEntity("krg-interior", "وزارة الداخلية في إقليم كوردستان", "وەزارەتی ناوخۆ", "KRG Ministry of Interior"),
    DemoEntity(
        "krg-peshmerga", "وزارة شؤون البيشمركة", "وەزارەتی کاروباری پێشمەرگە", "KRG Ministry of Peshmerga Affairs"
    ),
    DemoEntity(
        "krg-foreign-relations",
        "دائرة العلاقات الخارجية في حكومة إقليم كوردستان",
        "فەرمانگەی پەیوەندییە دەرەکییەکان",
        "KRG Department of Foreign Relations",
    ),
    DemoEntity("krg-justice", "وزارة العدل في إقليم كوردستان", "وەزارەتی داد", "KRG Ministry of Justice"),
    DemoEntity("krg-health", "وزارة الصحة في إقليم كوردستان", "وەزارەتی تەندروستی", "KRG Ministry of Health"),
    DemoEntity("krg-education", "وزارة التربية في إقليم كوردستان", "وەزارەتی پەروەردە", "KRG Ministry of Education"),
    DemoEntity(
        "krg-higher-education",
        "وزارة التعليم العالي والبحث العلمي في إقليم كوردستان",
        "وەزارەتی خوێندنی باڵا و توێژینەوەی زانستی",
        "KRG Ministry of Higher Education and Scientific Research",
    ),
    DemoEntity("krg-electricity", "وزارة الكهرباء في إقليم كوردستان", "وەزارەتی کارەبا", "KRG Ministry of Electricity"),
    DemoEntity(
        "krg-agriculture",
        "وزارة الزراعة والموارد المائية في إقليم كوردستان",
        "وەزارەتی کشتوکاڵ و سەرچاوەکانی ئاو",
        "KRG Ministry of Agriculture and Water Resources",
    ),
    DemoEntity(
        "krg-trade",
        "وزارة التجارة والصناعة في إقليم كوردستان",
        "وەزارەتی بازرگانی و پیشەسازی",
        "KRG Ministry of Trade and Industry",
    ),
    DemoEntity(
        "krg-labour",
        "وزارة العمل والشؤون الاجتماعية في إقليم كوردستان",
        "وەزارەتی کار و کاروباری کۆمەڵایەتی",
        "KRG Ministry of Labour and Social Affairs",
    ),
    DemoEntity(
        "krg-municipalities",
        "وزارة البلديات والسياحة في إقليم كوردستان",
        "وەزارەتی شارەوانی و گەشتوگوزار",
        "KRG Ministry of Municipalities and Tourism",
    ),
    DemoEntity(
        "krg-transport",
        "وزارة النقل والمواصلات في إقليم كوردستان",
        "وەزارەتی گواستنەوە و گەیاندن",
        "KRG Ministry of Transport and Communications",
    ),
    DemoEntity(
        "krg-martyrs",
        "وزارة شؤون الشهداء والمؤنفلين",
        "وەزارەتی کاروباری شەهیدان و ئەنفالکراوان",
        "KRG Ministry of Martyrs and Anfal Affairs",
    ),
    DemoEntity(
        "krg-audit",
        "ديوان الرقابة المالية في إقليم كوردستان",
        "دیوانی چاودێریی داراییی هەرێمی کوردستان",
        "KRG Board of Supreme Audit",
    ),
    DemoEntity(
        "krg-endowments",
        "وزارة الأوقاف والشؤون الدينية في إقليم كوردستان",
        "وەزارەتی ئەوقاف و کاروباری ئایینی",
        "KRG Ministry of Endowments and Religious Affairs",
    ),
)
BY_CODE = {entity.code: entity for entity in ENTITIES}
# Where a letter goes when the office that received it passes it on.
CENTRAL = {FEDERAL: ("fed-com-secretariat", "fed-finance"), REGION: ("krg-com", "krg-coordination")}


@dataclass(frozen=True)
class Topic:
    """A kind of letter: the offices that handle it on each side and how subjects read."""

    federal: tuple[str, ...]
    region: tuple[str, ...]
    subjects: tuple[str, ...]


TOPICS = (
    Topic(
        ("fed-finance",),
        ("krg-finance",),
        (
            "تمويل رواتب موظفي إقليم كوردستان لشهر {month} {year}",
            "تسوية مستحقات الإقليم من الموازنة الاتحادية لسنة {year}",
            "مطابقة أعداد موظفي دوائر الإقليم مع بيانات وزارة المالية",
        ),
    ),
    Topic(
        ("fed-finance", "fed-planning"),
        ("krg-finance", "krg-planning"),
        (
            "حصة إقليم كوردستان من الموازنة العامة الاتحادية لسنة {year}",
            "تخصيصات المشاريع الاستثمارية في محافظة {province} لسنة {year}",
        ),
    ),
    Topic(
        ("fed-oil",),
        ("krg-natural-resources",),
        (
            "تسليم كميات النفط المنتجة في الإقليم لشهر {month} {year}",
            "تنسيق صادرات النفط عبر خط أنابيب كركوك - جيهان",
        ),
    ),
    Topic(
        ("fed-customs", "fed-finance"),
        ("krg-finance",),
        (
            "إيرادات المنافذ الحدودية في الإقليم لشهر {month} {year}",
            "توحيد التعرفة الكمركية في منفذ {crossing} الحدودي",
        ),
    ),
    Topic(
        ("fed-education",),
        ("krg-education",),
        (
            "معادلة شهادات خريجي المدارس الإعدادية في محافظة {province}",
            "اعتماد نتائج الامتحانات الوزارية للصف السادس الإعدادي لسنة {year}",
        ),
    ),
    Topic(
        ("fed-higher-education",),
        ("krg-higher-education",),
        (
            "تصديق وثائق تخرج صادرة من {university}",
            "قبول طلبة الإقليم في الدراسات العليا للعام الدراسي {year}",
        ),
    ),
    Topic(
        ("fed-health",),
        ("krg-health",),
        (
            "تزويد الإقليم بحصته من الأدوية واللقاحات لسنة {year}",
            "استيراد أجهزة ومستلزمات طبية لمستشفيات محافظة {province}",
        ),
    ),
    Topic(
        ("fed-interior",),
        ("krg-interior",),
        (
            "إصدار البطاقة الوطنية الموحدة لمواطني محافظة {province}",
            "تدقيق صحة صدور جوازات سفر من مديرية جوازات {province}",
        ),
    ),
    Topic(
        ("fed-defence", "fed-finance"),
        ("krg-peshmerga",),
        (
            "تمويل رواتب قوات البيشمركة لشهر {month} {year}",
            "التنسيق الأمني المشترك في المناطق الحدودية لمحافظة {province}",
        ),
    ),
    Topic(
        ("fed-retirement",),
        ("krg-finance",),
        (
            "نقل خدمات متقاعدين من دوائر الإقليم إلى هيئة التقاعد الوطنية",
            "صرف الرواتب التقاعدية لمتقاعدي محافظة {province} لشهر {month} {year}",
        ),
    ),
    Topic(
        ("fed-agriculture", "fed-trade"),
        ("krg-agriculture", "krg-trade"),
        (
            "تسويق محصول الحنطة لموسم {year} في محافظة {province}",
            "حصة الإقليم من مفردات البطاقة التموينية لشهر {month} {year}",
        ),
    ),
    Topic(
        ("fed-electricity",),
        ("krg-electricity",),
        (
            "تجهيز الإقليم بالطاقة الكهربائية وتسوية مستحقاتها لسنة {year}",
            "ربط محطات التوليد في محافظة {province} بالشبكة الوطنية",
        ),
    ),
    Topic(
        ("fed-water",),
        ("krg-agriculture",),
        (
            "صيانة {dam} وتنظيم الإطلاقات المائية لموسم {year}",
            "حصة محافظة {province} من المياه للموسم الزراعي {year}",
        ),
    ),
    Topic(
        ("fed-migration",),
        ("krg-interior",),
        (
            "عودة النازحين المقيمين في مخيمات محافظة {province}",
            "صرف منحة العودة للأسر النازحة في محافظة {province}",
        ),
    ),
    Topic(
        ("fed-labour",),
        ("krg-labour",),
        (
            "شمول أسر محافظة {province} بشبكة الحماية الاجتماعية",
            "تسجيل العمال في الضمان الاجتماعي في محافظة {province}",
        ),
    ),
    Topic(("fed-audit",), ("krg-audit",), ("تدقيق الحسابات الختامية لوزارات الإقليم للسنة المالية {year}",)),
    Topic(
        ("fed-justice",),
        ("krg-justice",),
        (
            "تنفيذ أحكام قضائية صادرة عن محاكم محافظة {province}",
            "نقل نزلاء بين دوائر الإصلاح في بغداد و{province}",
        ),
    ),
    Topic(
        ("fed-foreign",),
        ("krg-foreign-relations",),
        (
            "تصديق وثائق صادرة عن القنصليات الأجنبية في أربيل",
            "تسهيل منح سمات الدخول لوفد رسمي يزور الإقليم",
        ),
    ),
    Topic(("fed-transport",), ("krg-transport",), ("تنظيم الرحلات الدولية في مطار {airport}",)),
    Topic(
        ("fed-construction",), ("krg-municipalities",), ("صرف مستحقات المقاولين عن مشاريع الطرق في محافظة {province}",)
    ),
    Topic(("fed-com-secretariat",), ("krg-martyrs",), ("شمول ذوي ضحايا عمليات الأنفال بقانون مؤسسة الشهداء",)),
    Topic(
        ("fed-com-secretariat", "fed-pm-office"),
        ("krg-com", "krg-coordination"),
        (
            "تنفيذ قرار مجلس الوزراء رقم ({decision}) لسنة {year}",
            "محضر الاجتماع المشترك بين الحكومة الاتحادية وحكومة الإقليم بتاريخ {day} {month} {year}",
        ),
    ),
    Topic(
        ("fed-cbi", "fed-finance"),
        ("krg-finance",),
        ("تحويل رواتب موظفي الإقليم عبر المصارف الحكومية لشهر {month} {year}",),
    ),
)
MONTHS = (
    "كانون الثاني",
    "شباط",
    "آذار",
    "نيسان",
    "أيار",
    "حزيران",
    "تموز",
    "آب",
    "أيلول",
    "تشرين الأول",
    "تشرين الثاني",
    "كانون الأول",
)
WORDS = {
    "province": ("أربيل", "السليمانية", "دهوك", "حلبجة", "كركوك", "نينوى"),
    "university": ("جامعة صلاح الدين", "جامعة السليمانية", "جامعة دهوك", "جامعة كويه", "جامعة السليمانية التقنية"),
    "crossing": ("إبراهيم الخليل", "حاج عمران", "باشماخ", "برويزخان"),
    "dam": ("سد دوكان", "سد دربندخان", "سد دهوك"),
    "airport": ("أربيل الدولي", "السليمانية الدولي"),
}
# Iraqi mobile ranges (Korek 075x, Asiacell 077x, Zain 078x/079x).
MOBILE_PREFIXES = ("750", "751", "770", "771", "772", "780", "781", "782", "790")
# How likely each final status is, by the letter's age in days: older ones are more often done.
STATUS_WEIGHTS = (  # received, under_review, forwarded, awaiting_reply, replied, returned
    (7, (5, 3, 1, 1, 0.2, 0.3)),
    (60, (1, 3, 3, 3, 2, 1)),
    (None, (0.3, 1, 1.5, 2.5, 6, 1.5)),
)
NUMBER_DIGITS = (4, 5, 5, 6, 6, 6, 7, 8)


@dataclass(frozen=True)
class Step:
    status: Status
    holder: str  # entity code
    on: date


@dataclass(frozen=True)
class DemoLetter:
    number: str
    date: date
    direction: Direction
    subject: str
    sender: str  # entity codes
    recipient: str
    phone: str | None
    history: tuple[Step, ...]

    def row(self, step: Step) -> dict:
        """This letter as a row of the import file, at one step of its history."""
        return {
            "number": self.number,
            "date": self.date.isoformat(),
            "direction": self.direction.value,
            "subject": self.subject,
            "sender": BY_CODE[self.sender].name_ar,
            "recipient": BY_CODE[self.recipient].name_ar,
            "holder": BY_CODE[step.holder].name_ar,
            "status": step.status.value,
            "status_date": step.on.isoformat(),
            "phone": self.phone or "",
        }


# --- generating letters (pure) ---------------------------------------------------------


def generate_letters(count: int, seed: int, today: date) -> list[DemoLetter]:
    """`count` letters of the last two years; the same arguments give the same letters.

    The first letters take every status in both directions, and a few share their number
    and date with a letter in the other direction (the IVR then asks which one).
    """
    rng = random.Random(seed)
    pairs = max(3, count // 200)
    forced = [(direction, status) for status in Status for direction in Direction]
    letters: list[DemoLetter] = []
    keys: set[tuple] = set()
    while len(letters) < count - pairs:
        direction, status = forced[len(letters)] if len(letters) < len(forced) else (None, None)
        letter = _letter(rng, today, direction or rng.choice(list(Direction)), status)
        if (letter.number, letter.date, letter.direction) not in keys:
            keys.add((letter.number, letter.date, letter.direction))
            letters.append(letter)
    for original in letters[len(forced) :]:
        if len(letters) == count:
            break
        other = next(d for d in Direction if d is not original.direction)
        if (original.number, original.date, other) not in keys:
            keys.add((original.number, original.date, other))
            letters.append(_letter(rng, today, other, None, number=original.number, on=original.date))
    return letters


def _letter(rng, today, direction, status, *, number=None, on=None) -> DemoLetter:
    recent = status in {Status.received, Status.under_review}  # a fresh letter, believably
    on = on or today - timedelta(days=rng.randrange(0, 30 if recent else 731))
    if number is None:
        digits = rng.choice(NUMBER_DIGITS)
        number = str(rng.randrange(10 ** (digits - 1), 10**digits))
    topic = rng.choice(TOPICS)
    federal = _pick(rng, topic.federal, ("fed-com-secretariat",), 0.15)
    region = _pick(rng, topic.region, ("krg-rep-baghdad",), 0.25)
    sender, recipient = (region, federal) if direction is Direction.to_federal else (federal, region)
    status = status or _final_status(rng, (today - on).days)
    phone = None
    if rng.random() < 0.3:
        phone = "+964" + rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**7):07d}"
    return DemoLetter(
        number=number,
        date=on,
        direction=direction,
        subject=_subject(rng, topic, on),
        sender=sender,
        recipient=recipient,
        phone=phone,
        history=_history(rng, status, sender, recipient, on, today),
    )


def _pick(rng, usual, via, chance):
    # Many letters go through a central office (the Secretariat, the KRG Representation).
    return rng.choice(via) if rng.random() < chance else rng.choice(usual)


def _final_status(rng, age_days: int) -> Status:
    weights = next(w for limit, w in STATUS_WEIGHTS if limit is None or age_days < limit)
    return rng.choices(list(Status), weights=weights)[0]


def _subject(rng, topic: Topic, on: date) -> str:
    month_before = on.replace(day=1) - timedelta(days=1)
    words = {name: rng.choice(choices) for name, choices in WORDS.items()}
    return rng.choice(topic.subjects).format(
        month=MONTHS[month_before.month - 1],
        year=month_before.year,
        day=on.day,
        decision=rng.randrange(10, 400),
        **words,
    )


def _history(rng, final: Status, sender, recipient, on: date, today: date) -> tuple[Step, ...]:
    """A plausible path of statuses ending in `final`, with who holds the letter at each."""
    government = BY_CODE[recipient].government
    passed_to = rng.choice([c for c in CENTRAL[government] if c != recipient] or [recipient])
    path = {
        Status.received: [Status.received],
        Status.under_review: [Status.received, Status.under_review],
        Status.forwarded: [Status.received, Status.under_review, Status.forwarded],
        Status.awaiting_reply: [Status.received, Status.forwarded, Status.awaiting_reply],
        Status.replied: [Status.received, Status.under_review, Status.replied],
        Status.returned: [Status.received, Status.returned],
    }[final]
    if final is Status.replied and rng.random() < 0.5:
        path = [Status.received, Status.under_review, Status.forwarded, Status.awaiting_reply, Status.replied]
    if final is Status.returned and rng.random() < 0.5:
        path = [Status.received, Status.under_review, Status.returned]
    holders = {
        Status.received: recipient,
        Status.under_review: recipient,
        Status.forwarded: passed_to,
        Status.awaiting_reply: passed_to if Status.forwarded in path else recipient,
        Status.replied: sender,
        Status.returned: sender,  # the answer went back to the sender
    }
    steps, when = [], on
    for status in path:
        days = rng.randrange(0, 4) if status is Status.received else rng.randrange(1, 22)
        when = min(when + timedelta(days=days), today)
        steps.append(Step(status=status, holder=holders[status], on=when))
    return tuple(steps)


# --- the database ------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    number: str
    date: date
    direction: Direction
    status: Status

    @property
    def keyed_date(self) -> str:
        """The date as a caller keys it: DDMMYYYY."""
        return self.date.strftime("%d%m%Y")


def demo_letter_count() -> int:
    return (
        db.session.scalar(
            select(func.count(func.distinct(TransactionEvent.transaction_id))).where(TransactionEvent.source == SOURCE)
        )
        or 0
    )


def seed_demo(*, letters: int = 3000, seed: int = 5599, today: date | None = None) -> int:
    """Load the demo entities and letters; returns the number of letters loaded."""
    today = today or local_today(current_app.config["TIMEZONE"])
    ensure_entities()
    generated = generate_letters(letters, seed, today)
    rounds = max(len(letter.history) for letter in generated)
    for step in range(rounds):
        rows = [
            (index, letter.row(letter.history[step]))
            for index, letter in enumerate(generated, start=1)
            if step < len(letter.history)
        ]
        report = import_rows(rows, today=today, source=SOURCE)
        if report.rejected:  # the generator and the importer disagree: a bug, not bad input
            raise RuntimeError(f"demo rows rejected by the importer: {report.rejected[:3]}")
    return len(generated)


def ensure_entities() -> None:
    """Every demo entity, matched by code or Arabic name; names in ckb/en filled in."""
    stored = db.session.scalars(
        select(Entity).where(Entity.code.in_(list(BY_CODE)) | Entity.name_ar.in_([e.name_ar for e in ENTITIES]))
    ).all()
    by_code = {entity.code: entity for entity in stored}
    by_name = {entity.name_ar: entity for entity in stored}
    for demo in ENTITIES:
        entity = by_code.get(demo.code) or by_name.get(demo.name_ar)
        if entity is None:
            db.session.add(Entity(code=demo.code, name_ar=demo.name_ar, name_ckb=demo.name_ckb, name_en=demo.name_en))
        else:  # keep an existing code: recorded audio clips are named after it
            entity.name_ckb = entity.name_ckb or demo.name_ckb
            entity.name_en = entity.name_en or demo.name_en
    db.session.commit()


def reset_demo() -> int:
    """Delete the demo letters and their histories; returns how many letters went.

    Rows elsewhere that point at a demo letter (a call that looked it up, a callback) keep
    their record without the link; rows that cannot exist without it go with it.
    """
    ids = db.session.scalars(
        select(TransactionEvent.transaction_id).where(TransactionEvent.source == SOURCE).distinct()
    ).all()
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        for table, column in _references_to_letters():
            if column.nullable:
                db.session.execute(update(table).where(column.in_(chunk)).values({column.name: None}))
            else:
                db.session.execute(delete(table).where(column.in_(chunk)))
        db.session.execute(delete(Transaction.__table__).where(Transaction.__table__.c.id.in_(chunk)))
    db.session.commit()
    return len(ids)


def _references_to_letters():
    """Every (table, column) with a foreign key to a letter, found from the models."""
    letter_id = Transaction.__table__.c.id
    for table in db.metadata.sorted_tables:
        for key in table.foreign_keys:
            if key.column is letter_id:
                yield table, key.parent


EXAMPLE_COLUMNS = (Transaction.number, Transaction.date, Transaction.direction, Transaction.status)


def examples() -> tuple[list[Example], list[tuple[Example, Example]]]:
    """A demo letter in each status, and letters that share number and date, to try."""
    is_demo = exists().where(TransactionEvent.transaction_id == Transaction.id, TransactionEvent.source == SOURCE)
    singles = []
    for index, status in enumerate(Status):
        direction = list(Direction)[index % 2]  # show both directions
        found = db.session.execute(
            select(*EXAMPLE_COLUMNS)
            .where(Transaction.status == status, is_demo)
            .order_by(Transaction.direction != direction, Transaction.id)
            .limit(1)
        ).first()
        if found:
            singles.append(Example(*found))
    shared = (
        select(Transaction.number, Transaction.date)
        .where(is_demo)
        .group_by(Transaction.number, Transaction.date)
        .having(func.count() > 1)
        .order_by(Transaction.number)
        .limit(2)
    )
    pairs = []
    for number, on in db.session.execute(shared):
        rows = db.session.execute(
            select(*EXAMPLE_COLUMNS)
            .where(Transaction.number == number, Transaction.date == on)
            .order_by(Transaction.direction)
        ).all()
        pairs.append((Example(*rows[0]), Example(*rows[1])))
    return singles, pairs
