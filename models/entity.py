"""Entities: the ministries and offices that send, receive and hold letters."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from extensions import Model


class Entity(Model):
    __tablename__ = "entity"

    id: Mapped[int] = mapped_column(primary_key=True)
    # A stable short code, used to name the entity's recorded Kurdish audio clip.
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_ar: Mapped[str] = mapped_column(String(200), unique=True)
    name_ckb: Mapped[str] = mapped_column(String(200), default="")
    name_en: Mapped[str] = mapped_column(String(200), default="")

    def name(self, language: str) -> str:
        """The name in a language, falling back to Arabic where no translation is kept."""
        return {"ckb": self.name_ckb, "en": self.name_en}.get(language) or self.name_ar

    def __repr__(self) -> str:
        return f"<Entity {self.code}>"
