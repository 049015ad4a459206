"""Deterministic seed data: 200 authors, 2,000 books, 6,000 reviews."""

from __future__ import annotations

import random
from decimal import Decimal

from django.db import transaction

from .models import Author, Book, Review

AUTHORS = 200
BOOKS_PER_AUTHOR = 10
REVIEWS_PER_BOOK = 3

_FIRST = ["Ada", "Alan", "Grace", "Linus", "Guido", "Barbara", "Edsger", "Donald", "Margaret", "Ken"]
_LAST = ["Lovelace", "Turing", "Hopper", "Torvalds", "Rossum", "Liskov", "Dijkstra", "Knuth", "Hamilton", "Thompson"]
_COUNTRIES = ["UK", "NL", "US", "FI", "FR", "DE", "JP", "BR", "IN", "KE"]
_WORDS = ["async", "await", "loop", "thread", "query", "view", "template", "socket", "future", "task"]


def seed_if_empty() -> bool:
    """Fill the tables once; return True if rows were written."""
    if Author.objects.exists():
        return False
    rng = random.Random(42)
    with transaction.atomic():
        authors = Author.objects.bulk_create(
            Author(name=f"{rng.choice(_FIRST)} {rng.choice(_LAST)} {i}", country=rng.choice(_COUNTRIES))
            for i in range(AUTHORS)
        )
        books = Book.objects.bulk_create(
            Book(
                title=f"The {rng.choice(_WORDS).title()} of {rng.choice(_WORDS).title()} #{a.pk}-{j}",
                author=a,
                year=rng.randint(1970, 2026),
                pages=rng.randint(80, 900),
                price=Decimal(rng.randint(500, 8000)) / 100,
                copies_sold=rng.randint(0, 100_000),
            )
            for a in authors
            for j in range(BOOKS_PER_AUTHOR)
        )
        Review.objects.bulk_create(
            Review(book=b, rating=rng.randint(1, 5), text=" ".join(rng.choices(_WORDS, k=12)))
            for b in books
            for _ in range(REVIEWS_PER_BOOK)
        )
    return True


DEMO_USERNAME = "ada"


def ensure_demo_user() -> None:
    """The user the auth demos log in: no usable password, so nobody can log in as it from outside."""
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    if not user_model.objects.filter(username=DEMO_USERNAME).exists():
        user = user_model(username=DEMO_USERNAME)
        user.set_unusable_password()
        user.save()
