"""Background tasks for the task-enqueue demo (Django 6's django.tasks framework)."""

from __future__ import annotations

from django.db.models import Avg, Count
from django.tasks import task

from .models import Review


@task
def summarise_reviews(book_id: int) -> dict:
    """Count a book's reviews and average their rating: work a view would rather hand off."""
    stats = Review.objects.filter(book_id=book_id).aggregate(reviews=Count("id"), average_rating=Avg("rating"))
    return {"book_id": book_id, **stats}
