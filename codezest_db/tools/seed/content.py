"""Hand-written catalogue content: what a coding school teaches, so the seed reads like one."""

from __future__ import annotations

__all__ = [
    "ASSIGNMENT_TASKS",
    "LANGUAGES",
    "MODULE_TOPICS",
    "NOTIFICATION_KINDS",
    "PAGES",
    "QUESTIONS",
]

# slug, name, description, published, retired (soft-deleted)
LANGUAGES: tuple[tuple[str, str, str, bool, bool], ...] = (
    ("python", "Python", "Readable and batteries-included, from scripts to ML.", True, False),
    ("javascript", "JavaScript", "The language of the browser, and of Node.", True, False),
    ("typescript", "TypeScript", "JavaScript with static types for big codebases.", True, False),
    ("go", "Go", "Small language, fast builds, goroutines for concurrency.", True, False),
    ("rust", "Rust", "Memory safety without a garbage collector.", True, False),
    ("java", "Java", "The JVM workhorse of enterprise backends.", True, False),
    ("sql", "SQL", "Ask questions of relational data.", True, False),
    ("cpp", "C++", "Zero-cost abstractions close to the metal.", True, False),
    ("kotlin", "Kotlin", "Concise JVM language, first choice on Android.", False, False),
    ("perl", "Perl", "The duct tape of the early web.", True, True),
)  # fmt: skip

# title, difficulty: a language's modules are the first N of these, in order.
MODULE_TOPICS: tuple[tuple[str, str], ...] = (
    ("Getting started", "BEGINNER"),
    ("Variables and types", "BEGINNER"),
    ("Control flow", "BEGINNER"),
    ("Functions", "BEGINNER"),
    ("Collections", "INTERMEDIATE"),
    ("Strings and text", "INTERMEDIATE"),
    ("Error handling", "INTERMEDIATE"),
    ("Modules and packages", "INTERMEDIATE"),
    ("Testing", "INTERMEDIATE"),
    ("Concurrency", "ADVANCED"),
    ("Performance", "ADVANCED"),
    ("Idioms and style", "ADVANCED"),
)

ASSIGNMENT_TASKS: tuple[tuple[str, str], ...] = (
    ("FizzBuzz", "Print the numbers 1 to n, Fizz for multiples of 3, Buzz for 5, both for 15."),
    ("Reverse a string", "Return the input string reversed, keeping multi-byte characters whole."),
    ("Word count", "Count how often each word occurs in a text, ignoring case."),
    ("Palindromes", "Tell whether a phrase reads the same backwards, ignoring spaces."),
    ("Two sum", "Find two indices whose values add up to the target."),
    ("Balanced brackets", "Check that every bracket in the input is closed in order."),
    ("Roman numerals", "Convert an integer between 1 and 3999 to Roman numerals."),
    ("Matrix transpose", "Return the transpose of a rectangular matrix."),
    ("Binary search", "Find the index of a value in a sorted list in O(log n)."),
    ("Rate limiter", "Allow at most n calls per sliding window of t seconds."),
    ("LRU cache", "A fixed-size cache that evicts the least recently used key."),
    ("Parse CSV", "Split CSV lines into fields, honouring quoted commas."),
)

# prompt, correct option, three wrong options, explanation
QUESTIONS: tuple[tuple[str, str, tuple[str, str, str], str], ...] = (
    (
        "What does a function return when it reaches its end without a return statement?",
        "Nothing / the unit or null value",
        ("The last expression evaluated", "Zero", "A compile error always"),
        "Falling off the end returns the language's empty value.",
    ),
    (
        "Which structure gives average O(1) lookup by key?",
        "A hash map",
        ("A linked list", "A sorted array", "A binary heap"),
        "Hashing maps a key straight to its bucket.",
    ),
    (
        "What is the index of the first element of an array in most languages?",
        "0",
        ("1", "-1", "It depends on the array length"),
        "Most languages index from zero.",
    ),
    (
        "Which loop is best when the number of iterations is not known up front?",
        "A while loop",
        ("A for loop over a range", "A recursive macro", "A switch statement"),
        "A while loop runs until its condition turns false.",
    ),
    (
        "What does immutability buy you in concurrent code?",
        "Safe sharing without locks",
        ("Faster garbage collection", "Smaller binaries", "Automatic retries"),
        "Data nobody can change cannot race.",
    ),
    (
        "What should a unit test avoid?",
        "Depending on other tests' side effects",
        ("Asserting on results", "Having a descriptive name", "Running quickly"),
        "Each test must pass on its own, in any order.",
    ),
    (
        "Which is a sign that an exception should be caught?",
        "You can recover or add useful context",
        ("It happened at all", "The stack trace is long", "The code is in a loop"),
        "Catch only what you can handle.",
    ),
    (
        "What is the time complexity of binary search?",
        "O(log n)",
        ("O(n)", "O(n log n)", "O(1)"),
        "Each step halves the search space.",
    ),
)

# notification type, title, body template ({course} is filled in)
NOTIFICATION_KINDS: tuple[tuple[str, str, str], ...] = (
    ("submission.graded", "Your submission was graded", "Feedback on your {course} exercise."),
    ("quiz.passed", "Quiz passed", "Well done: you passed a {course} quiz."),
    ("module.unlocked", "New module unlocked", "The next {course} module is ready for you."),
    ("streak.reminder", "Keep your streak going", "Ten minutes of {course} keeps it alive."),
    ("payment.succeeded", "Payment received", "Thanks! Your receipt is in your account."),
    ("payment.failed", "Payment failed", "We could not charge your card. Please update it."),
)  # fmt: skip

PAGES: tuple[str, ...] = (
    "/", "/courses", "/courses/python", "/courses/javascript", "/dashboard", "/pricing",
    "/settings", "/leaderboard", "/blog", "/help",
)  # fmt: skip
