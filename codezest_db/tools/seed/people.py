"""Everything one user leaves behind across the five services, drawn in a fixed order."""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import datetime, timedelta

from faker import Faker

from .catalogue import DAY, Base, Module, Rows, Track
from .content import NOTIFICATION_KINDS, PAGES

__all__ = ["People"]

HOUR = timedelta(hours=1)
DOMAINS = ("example.com", "example.org", "example.net", "mail.example")
PRICES = {  # minor units per month: PRO, ENTERPRISE
    "USD": (1900, 9900),
    "EUR": (1700, 8900),
    "GBP": (1500, 7900),
    "INR": (149_900, 799_900),
}
AI_MODELS = ("codezest-reviewer-2", "codezest-reviewer-3")
REVIEWS = (
    "Correct and readable; consider extracting the loop body into a helper.",
    "Passes the tests, but the nested loops make it quadratic.",
    "Edge cases (empty input) are not handled.",
    "Clean solution with good names.",
    "Works, though mutating the argument may surprise callers.",
)
EVENT_NAMES = ("page_view",) * 7 + ("lesson_started", "video_played", "quiz_started")


class People(Base):
    """Generates users in order; `users(first, count, out)` appends their rows."""

    def __init__(self, random_seed: int, now: datetime, events_per_user: int) -> None:
        super().__init__(random_seed, now)
        self.events_per_user = events_per_user
        fake = Faker("en_US")
        fake.seed_instance(random_seed)
        # Pools drawn once: Faker per row would cost more than the COPY itself.
        self.first_names = [fake.first_name() for _ in range(600)]
        self.last_names = [fake.last_name() for _ in range(900)]
        self.bios = [fake.paragraph(nb_sentences=2) for _ in range(300)]
        self.agents = [fake.user_agent() for _ in range(200)]
        self.ips = [fake.ipv4_public() for _ in range(500)]
        self.instructors: list[uuid.UUID] = []
        self.tracks: list[Track] = []

    def users(self, first: int, count: int, out: Rows) -> None:
        for index in range(first, first + count):
            self._user(index, out)

    def _user(self, index: int, out: Rows) -> None:
        rng = self.rng
        user = self.new_id()
        first, last = rng.choice(self.first_names), rng.choice(self.last_names)
        local = re.sub(r"[^a-z0-9.]", "", f"{first}.{last}".lower())
        email = f"{local}{index}@{rng.choice(DOMAINS)}"
        created = self.now - timedelta(seconds=rng.uniform(3600, 730 * 86400))
        r = rng.random()
        role = "ADMIN" if r < 0.01 else "INSTRUCTOR" if r < 0.06 else "STUDENT"
        if role == "INSTRUCTOR":
            self.instructors.append(user)
        oauth_only = self.chance(0.15)
        password = None if oauth_only else self._argon2()
        verified = created + timedelta(minutes=rng.randint(1, 600)) if self.chance(0.85) else None
        login = self.between(created, self.now)
        deleted = self.between(login, self.now) if self.chance(0.02) else None
        out["auth.users"].append(
            (user, email, password, f"{first} {last}", role, verified, login, created,
             deleted or login, deleted)
        )  # fmt: skip
        self._auth(user, email, created, verified, oauth_only, out)
        self._learning(user, created, out)
        paying = self._payments(user, created, out)
        self._notifications(user, email, created, paying, out)
        self._events(user, created, out)

    def _argon2(self) -> str:
        salt = base64.b64encode(self.rng.randbytes(16)).decode().rstrip("=")
        digest = base64.b64encode(self.rng.randbytes(32)).decode().rstrip("=")
        return f"$argon2id$v=19$m=65536,t=3,p=4${salt}${digest}"

    def _auth(
        self,
        user: uuid.UUID,
        email: str,
        created: datetime,
        verified: datetime | None,
        oauth_only: bool,
        out: Rows,
    ) -> None:
        rng = self.rng
        if self.chance(0.6):
            avatar = f"https://cdn.codezest.example/avatars/{user}.png"
            out["auth.user_profiles"].append(
                (self.new_id(), user, rng.choice(self.bios), avatar, created, created)
            )
        for _ in range(rng.randint(0, 3)):
            start = self.between(created, self.now)
            expires = start + 30 * DAY
            revoked = self.between(start, self.now) if self.chance(0.2) else None
            used = self.between(start, min(self.now, expires))
            out["auth.sessions"].append(
                (self.new_id(), user, self.token(), rng.choice(self.agents), rng.choice(self.ips),
                 expires, revoked, used, start, used)
            )  # fmt: skip
        providers = ("github", "google") if oauth_only else ("github",) if self.chance(0.2) else ()
        for provider in providers[: rng.randint(1, 2)]:
            account = str(rng.randint(10**7, 10**10))
            out["auth.oauth_accounts"].append(
                (self.new_id(), user, provider, account, created, created)
            )
        if self.chance(0.08):
            asked = self.between(created, self.now)
            taken = asked + timedelta(minutes=rng.randint(1, 50)) if self.chance(0.6) else None
            out["auth.password_resets"].append(
                (self.new_id(), user, self.token(), asked + HOUR, taken, asked, taken or asked)
            )
        out["auth.email_verifications"].append(
            (self.new_id(), user, email, self.token(), created + 24 * HOUR, verified, created,
             verified or created)
        )  # fmt: skip

    def _learning(self, user: uuid.UUID, created: datetime, out: Rows) -> None:
        count = 1 + (self.rng.random() > 0.5) + (self.rng.random() > 0.8)
        for track in self.rng.sample(self.tracks, count):
            self._enrollment(user, track, created, out)

    def _enrollment(self, user: uuid.UUID, track: Track, created: datetime, out: Rows) -> None:
        rng = self.rng
        enrolled = self.between(created, self.now)
        touched = rng.randint(0, len(track.modules))
        step = (self.now - enrolled) / (len(track.modules) + 1)
        skill = rng.uniform(0.5, 0.97)
        at = enrolled
        for position, module in enumerate(track.modules[:touched]):
            done = position < touched - 1 or self.chance(0.3)
            started, at = at, at + step * rng.uniform(0.3, 1.0)
            self._module(user, module, started, at if done else None, skill, out)
        finished = touched == len(track.modules) and rng.random() < 0.7
        status = "COMPLETED" if finished else "DROPPED" if self.chance(0.1) else "ACTIVE"
        completed = at if finished else None
        enrollment = self.new_id()
        out["learning.language_enrollments"].append(
            (enrollment, user, track.id, status, enrolled, completed, enrolled,
             completed or enrolled)
        )  # fmt: skip
        self._activity(user, "language.enrolled", "language", track.id, enrolled, out)

    def _module(
        self,
        user: uuid.UUID,
        module: Module,
        started: datetime,
        completed: datetime | None,
        skill: float,
        out: Rows,
    ) -> None:
        rng = self.rng
        end = completed or self.now
        percent = "100.00" if completed else f"{rng.uniform(5, 95):.2f}"
        out["learning.module_progress"].append(
            (self.new_id(), user, module.id, "COMPLETED" if completed else "IN_PROGRESS", percent,
             started, completed, started, end)
        )  # fmt: skip
        read = len(module.materials) if completed else rng.randint(0, len(module.materials))
        for n, material in enumerate(module.materials[: read + 1]):
            at = self.between(started, end)
            status = "COMPLETED" if n < read else "IN_PROGRESS"
            done = at if n < read else None
            out["learning.material_progress"].append(
                (self.new_id(), user, material, status, done, started, at)
            )
        for assignment, title, points in module.assignments:
            if self.chance(0.7):
                self._submission(user, assignment, title, points, started, end, skill, out)
        if module.quiz is not None and (completed or self.chance(0.4)):
            self._attempt(user, module, started, completed, skill, out)
        if completed:
            self._activity(user, "module.completed", "module", module.id, completed, out)

    def _submission(
        self,
        user: uuid.UUID,
        assignment: uuid.UUID,
        title: str,
        points: int,
        start: datetime,
        end: datetime,
        skill: float,
        out: Rows,
    ) -> None:
        rng = self.rng
        submitted = self.between(start, end)
        r = rng.random()
        status = (
            "PASSED" if r < skill else "FAILED" if r < 0.97 else rng.choice(("PENDING", "ERROR"))
        )
        graded = submitted + timedelta(seconds=rng.randint(2, 90))
        score: int | None = None
        results = feedback = None
        if status in ("PASSED", "FAILED"):
            passed = 3 if status == "PASSED" else rng.randint(0, 2)
            score = points if status == "PASSED" else points * passed // 3
            results = f'{{"passed": {passed}, "failed": {3 - passed}, "total": 3}}'
            feedback = "All tests pass." if status == "PASSED" else f"{3 - passed} test(s) fail."
        code = f"# {title}\ndef solve(data):\n    return data\n"
        submission = self.new_id()
        out["learning.assignment_submissions"].append(
            (submission, user, assignment, code, status, score, results, feedback, submitted,
             graded if score is not None else None, submitted,
             graded if score is not None else submitted)
        )  # fmt: skip
        self._activity(user, "submission.created", "submission", submission, submitted, out)
        if score is not None and self.chance(0.35):
            kind, model, reviewer = self._analyst()
            details = json.dumps({"complexity": rng.choice(("O(n)", "O(n log n)", "O(n^2)"))})
            out["learning.assignment_analyses"].append(
                (self.new_id(), submission, kind, rng.choice(REVIEWS), details,
                 f"{100 * score / max(points, 1):.2f}", model, reviewer, graded, graded)
            )  # fmt: skip

    def _analyst(self) -> tuple[str, str | None, uuid.UUID | None]:
        """Who reviews: an AI model, an instructor (when one exists yet), or both."""
        r = self.rng.random()
        if r < 0.7 or not self.instructors:
            return "AI", self.rng.choice(AI_MODELS), None
        reviewer = self.rng.choice(self.instructors)
        if r < 0.85:
            return "MANUAL", None, reviewer
        return "HYBRID", self.rng.choice(AI_MODELS), reviewer

    def _attempt(
        self,
        user: uuid.UUID,
        module: Module,
        start: datetime,
        completed: datetime | None,
        skill: float,
        out: Rows,
    ) -> None:
        rng = self.rng
        began = self.between(start, completed or self.now)
        attempt = self.new_id()
        if completed is None and self.chance(0.5):  # still answering
            out["learning.mcq_attempts"].append(
                (attempt, user, module.quiz, None, None, None, began, None, began, began)
            )
            return
        score = 0
        for question in module.questions:
            right = rng.random() < skill
            score += question.points if right else 0
            option = question.correct if right else rng.choice(question.wrong)
            out["learning.mcq_answers"].append(
                (self.new_id(), attempt, question.id, option, began, began)
            )
        finished = began + timedelta(seconds=rng.randint(60, 590))
        maximum = sum(q.points for q in module.questions)
        passed = score >= module.passing_score
        out["learning.mcq_attempts"].append(
            (attempt, user, module.quiz, score, maximum, passed, began, finished, began, finished)
        )
        self._activity(user, "quiz.finished", "mcq_attempt", attempt, finished, out)
        if self.chance(0.3):
            kind, model, reviewer = self._analyst()
            summary = "Solid grasp of the basics." if passed else "Review the module's examples."
            details = f'{{"score": {score}, "max_score": {maximum}}}'
            analysis = self.new_id()
            out["learning.quiz_analyses"].append(
                (analysis, attempt, kind, summary, details, model, reviewer, finished, finished)
            )

    def _payments(self, user: uuid.UUID, created: datetime, out: Rows) -> bool:
        """A plan for about half the users; True when the user pays."""
        rng = self.rng
        r = rng.random()
        if r < 0.45:
            return False
        if r < 0.6:
            out["payments.subscriptions"].append(
                (self.new_id(), user, "FREE", "ACTIVE", None, None, False, None, None, None, None,
                 created, created)
            )  # fmt: skip
            return False
        plan = "PRO" if r < 0.92 else "ENTERPRISE"
        currency = rng.choice(("USD", "USD", "EUR", "GBP", "INR"))
        provider = "razorpay" if currency == "INR" else "stripe"
        start = self.between(created, self.now)
        months = min(int((self.now - start) / (30 * DAY)), 24)
        r = rng.random()
        status = ("ACTIVE" if r < 0.75 else "PAST_DUE" if r < 0.83 else "CANCELED" if r < 0.93
                  else "EXPIRED")  # fmt: skip
        if months == 0 and self.chance(0.5):
            status = "TRIALING"
        period = start + months * 30 * DAY
        canceled = self.between(period, self.now) if status in ("CANCELED", "EXPIRED") else None
        trial = start + 14 * DAY if status == "TRIALING" else None
        subscription = self.new_id()
        out["payments.subscriptions"].append(
            (subscription, user, plan, status, period, period + 30 * DAY, status == "CANCELED",
             canceled, trial, provider, f"sub_{self.next_serial():08d}", start, period)
        )  # fmt: skip
        amount = PRICES[currency][plan == "ENTERPRISE"]
        for month in range(months + (status != "TRIALING")):
            failed = status == "PAST_DUE" and month == months
            self._charge(user, subscription, plan, amount, currency, provider,
                         start + month * 30 * DAY, failed, out)  # fmt: skip
        self._methods(user, currency, provider, start, out)
        return True

    def _charge(
        self,
        user: uuid.UUID,
        subscription: uuid.UUID,
        plan: str,
        amount: int,
        currency: str,
        provider: str,
        at: datetime,
        failed: bool,
        out: Rows,
    ) -> None:
        rng = self.rng
        r = rng.random()
        status = "FAILED" if failed or r < 0.04 else "REFUNDED" if r < 0.06 else "SUCCEEDED"
        reason = rng.choice(("card_declined", "insufficient_funds")) if status == "FAILED" else None
        refunded = at + rng.randint(1, 10) * DAY if status == "REFUNDED" else None
        refunded = min(refunded, self.now) if refunded else None
        serial = self.next_serial()
        transaction = self.new_id()
        label = f"CodeZest {plan.title()} (monthly)"
        out["payments.transactions"].append(
            (transaction, user, subscription, amount, currency, status, provider,
             f"pay_{serial:010d}", label, reason, refunded, at, refunded or at)
        )  # fmt: skip
        invoice_status = {"SUCCEEDED": "PAID", "REFUNDED": "VOID"}.get(status, "OPEN")
        if invoice_status == "OPEN" and at < self.now - 60 * DAY:
            invoice_status = "UNCOLLECTIBLE"
        items = json.dumps([{"description": label, "amount_minor": amount, "quantity": 1}])
        paid = at if invoice_status in ("PAID", "VOID") else None
        out["payments.invoices"].append(
            (self.new_id(), user, subscription, transaction, f"CZ-{at.year}-{serial:07d}", amount,
             currency, invoice_status, items, at, at + 7 * DAY, paid, refunded, at,
             refunded or at)
        )  # fmt: skip

    def _methods(
        self, user: uuid.UUID, currency: str, provider: str, at: datetime, out: Rows
    ) -> None:
        rng = self.rng
        for n in range(rng.randint(1, 2)):
            kind = "UPI" if currency == "INR" and n == 0 else rng.choice(("CARD", "CARD", "WALLET"))
            brand = last4 = month = year = None
            if kind == "CARD":
                brand = rng.choice(("visa", "mastercard", "amex"))
                last4 = f"{rng.randint(0, 9999):04d}"
                month, year = rng.randint(1, 12), self.now.year + rng.randint(0, 5)
            elif kind == "WALLET":
                brand = rng.choice(("apple_pay", "google_pay", "paypal"))
            out["payments.payment_methods"].append(
                (self.new_id(), user, kind, provider, f"pm_{self.next_serial():010d}", brand, last4,
                 month, year, n == 0, at, at)
            )  # fmt: skip

    def _notifications(
        self, user: uuid.UUID, email: str, created: datetime, paying: bool, out: Rows
    ) -> None:
        rng = self.rng
        kinds = NOTIFICATION_KINDS if paying else NOTIFICATION_KINDS[:4]
        course = rng.choice(self.tracks)
        for _ in range(rng.randint(0, 6)):
            kind, title, body = rng.choice(kinds)
            at = self.between(created, self.now)
            read = self.between(at, self.now) if self.chance(0.6) else None
            data = json.dumps({"course": course.slug})
            out["notifications.notifications"].append(
                (self.new_id(), user, kind, title, body.format(course=course.name), data, read, at,
                 read or at)
            )  # fmt: skip
        choices = (("email", None), ("push", None), ("email", "streak.reminder"), ("in_app", None))
        for channel, only in rng.sample(choices, rng.randint(0, 3)):
            out["notifications.notification_preferences"].append(
                (self.new_id(), user, channel, only, self.chance(0.5), created, created)
            )
        r = rng.random()
        status = "delivered" if r < 0.9 else "bounced" if r < 0.95 else "failed"
        error = None if status == "delivered" else f"550 mailbox unavailable ({status})"
        message = f"msg_{self.next_serial():010d}" if status != "failed" else None
        out["notifications.email_logs"].append(
            (self.new_id(), user, email, "welcome", "Welcome to CodeZest", status, message, error,
             created if message else None, created, created)
        )  # fmt: skip

    def _activity(
        self,
        user: uuid.UUID,
        kind: str,
        entity_type: str,
        entity: uuid.UUID,
        at: datetime,
        out: Rows,
    ) -> None:
        row = (self.new_id(), user, kind, entity_type, entity, "{}", at)
        out["activity.user_activities"].append(row)

    def _events(self, user: uuid.UUID, created: datetime, out: Rows) -> None:
        rng = self.rng
        self._activity(user, "user.signed_up", "user", user, created, out)
        for _ in range(rng.randint(0, 2 * self.events_per_user)):
            at = self.between(created, self.now)
            actor = user if rng.random() < 0.9 else None
            # JSON by hand: the values are plain paths and numbers, and this is the
            # biggest table, where json.dumps would be a fifth of the time.
            props = f'{{"path": "{rng.choice(PAGES)}", "session": {rng.randint(1, 40)}}}'
            stored = at + timedelta(milliseconds=rng.randint(20, 4000))
            out["activity.analytics_events"].append(
                (self.new_id(), rng.choice(EVENT_NAMES), actor, props, at, stored)
            )
