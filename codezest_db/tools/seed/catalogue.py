"""The course catalogue (the same for every size) and the seed's deterministic helpers."""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .content import ASSIGNMENT_TASKS, LANGUAGES, MODULE_TOPICS, QUESTIONS

__all__ = ["Base", "Module", "Question", "Rows", "Track"]

Rows = dict[str, list[tuple[Any, ...]]]
DAY = timedelta(days=1)
_VERSION_VARIANT = (0x7 << 76) | (0b10 << 62)  # UUIDv7, RFC 9562 variant
_RANDOM = (2**76 - 1) & ~(0b11 << 62)  # rand_a (12 bits) and rand_b (62 bits)


@dataclass
class Question:
    id: uuid.UUID
    points: int
    correct: uuid.UUID
    wrong: list[uuid.UUID]


@dataclass
class Module:
    id: uuid.UUID
    title: str
    materials: list[uuid.UUID] = field(default_factory=list)
    assignments: list[tuple[uuid.UUID, str, int]] = field(default_factory=list)
    quiz: uuid.UUID | None = None
    passing_score: int = 0
    questions: list[Question] = field(default_factory=list)


@dataclass
class Track:
    """A published language a learner can enroll in, with its modules in order."""

    id: uuid.UUID
    slug: str
    name: str
    modules: list[Module]


class Base:
    """Random choices, ids and times drawn from one seeded generator, in a fixed order."""

    def __init__(self, random_seed: int, now: datetime) -> None:
        self.rng = random.Random(random_seed)
        self.now = now
        # UUIDv7 layout (time-ordered): each id lands at the right edge of
        # its primary key index, which keeps a bulk COPY fast.
        self._ms = int(now.timestamp() * 1000) - 400 * 86_400_000
        self._count = 0
        self._high = (self._ms << 80) | _VERSION_VARIANT
        self.serial = 0

    def new_id(self) -> uuid.UUID:
        count = self._count = self._count + 1
        if not count & 63:  # the millisecond field moves on every 64 ids
            self._high = ((self._ms + (count >> 6)) << 80) | _VERSION_VARIANT
        return uuid.UUID(int=self._high | (self.rng.getrandbits(76) & _RANDOM))

    def next_serial(self) -> int:
        self.serial += 1
        return self.serial

    def token(self) -> str:
        return f"{self.rng.getrandbits(256):064x}"

    def between(self, start: datetime, end: datetime) -> datetime:
        return start + (end - start) * self.rng.random() if end > start else start

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def catalogue(self, out: Rows) -> list[Track]:
        """Append the catalogue's rows to *out*; return the tracks learners can take."""
        rng = self.rng
        tracks: list[Track] = []
        opened = self.now - 900 * DAY
        for slug, name, description, published, retired in LANGUAGES:
            created = self.between(opened, opened + 60 * DAY)
            language = self.new_id()
            deleted = self.between(created, self.now) if retired else None
            icon = f"https://cdn.codezest.example/icons/{slug}.svg"
            out["learning.programming_languages"].append(
                (language, slug, name, description, icon, published, created, created, deleted)
            )
            count = rng.randint(6, len(MODULE_TOPICS))
            modules = [self._new_module(language, p, created, out) for p in range(count)]
            if published and not retired:
                tracks.append(Track(language, slug, name, modules))
        return tracks

    def _new_module(self, language: uuid.UUID, position: int, at: datetime, out: Rows) -> Module:
        title, difficulty = MODULE_TOPICS[position]
        module = Module(self.new_id(), title)
        slug = title.lower().replace(" ", "-")
        description = f"{title}: explanations, examples, exercises and a quiz."
        out["learning.modules"].append(
            (module.id, language, slug, title, description, position, difficulty, at, at, None)
        )
        self._materials(module, at, out)
        self._assignments(module, difficulty, at, out)
        self._quiz(module, at, out)
        return module

    def _materials(self, module: Module, at: datetime, out: Rows) -> None:
        kinds = ("VIDEO", "ARTICLE", "CODE_EXAMPLE", "DOCUMENTATION")
        for position in range(self.rng.randint(3, 5)):
            kind = kinds[position % 4] if position else "VIDEO"
            material = self.new_id()
            title = f"{module.title}: {kind.replace('_', ' ').lower()} {position + 1}"
            url = content = None
            duration = None
            if kind == "VIDEO":
                url = f"https://video.codezest.example/{material}.mp4"
                duration = self.rng.randint(180, 1500)
            elif kind == "DOCUMENTATION":
                url = f"https://docs.codezest.example/{module.id}/{position}"
            else:
                content = f"## {title}\n\nA walk through {module.title.lower()}, with examples."
            out["learning.materials"].append(
                (material, module.id, title, kind, content, url, position, duration, at, at, None)
            )
            module.materials.append(material)

    def _assignments(self, module: Module, difficulty: str, at: datetime, out: Rows) -> None:
        for position in range(self.rng.randint(1, 3)):
            title, description = self.rng.choice(ASSIGNMENT_TASKS)
            assignment = self.new_id()
            points = {"BEGINNER": 10, "INTERMEDIATE": 20, "ADVANCED": 40}[difficulty]
            cases = json.dumps([{"input": f"case {n}", "expected": f"out {n}"} for n in range(3)])
            starter = "def solve(data):\n    raise NotImplementedError\n"
            out["learning.assignments"].append(
                (assignment, module.id, title, description, difficulty, starter, cases,
                 points, position, at, at, None)
            )  # fmt: skip
            module.assignments.append((assignment, title, points))

    def _quiz(self, module: Module, at: datetime, out: Rows) -> None:
        module.quiz = self.new_id()
        picked = self.rng.sample(QUESTIONS, 4)
        module.passing_score = 3
        out["learning.mcq_quizzes"].append(
            (module.quiz, module.id, f"{module.title} quiz", "Four questions to check the basics.",
             module.passing_score, 600, 0, at, at, None)
        )  # fmt: skip
        for position, (prompt, right, wrongs, explanation) in enumerate(picked):
            question = Question(self.new_id(), 1, self.new_id(), [self.new_id() for _ in wrongs])
            out["learning.mcq_questions"].append(
                (question.id, module.quiz, prompt, explanation, position, 1, at, at)
            )
            texts = [(question.correct, right, True)]
            texts += [(o, text, False) for o, text in zip(question.wrong, wrongs, strict=True)]
            self.rng.shuffle(texts)
            for order, (option, text, correct) in enumerate(texts):
                out["learning.mcq_options"].append(
                    (option, question.id, text, correct, order, at, at)
                )
            module.questions.append(question)
