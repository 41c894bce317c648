"""A book's trial balance up to a business day: the postings to its accounts by kind, and
the day's entries by kind. Reads only; the markets' reconciliation shows it."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import connection
from django.db.models import TextChoices

from .choices import AccountKind, EntryKind
from .findings import cents
from .models import Book

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class AccountKindTotal:
    """A line of a book's trial balance: the postings to its accounts of one kind."""

    kind: str
    label: str
    debits: Decimal
    credits: Decimal

    @property
    def balance(self) -> Decimal:
        """Debit-positive: a credit-normal kind (what the book owes) shows negative."""
        return self.debits - self.credits


@dataclass(frozen=True)
class EntryKindTotal:
    """The day's entries of one kind in a book: how many, and the money they moved."""

    kind: str
    label: str
    count: int
    amount: Decimal


@dataclass(frozen=True)
class BookFigures:
    book_id: int
    code: str
    name: str
    lines: list[AccountKindTotal]
    movements: list[EntryKindTotal]

    @property
    def debits(self) -> Decimal:
        return sum((line.debits for line in self.lines), ZERO)

    @property
    def credits(self) -> Decimal:
        return sum((line.credits for line in self.lines), ZERO)

    @property
    def balanced(self) -> bool:
        return self.debits == self.credits


def book_figures(books: list[Book], day: date) -> list[BookFigures]:
    """Each book's trial balance up to the end of `day`, and its movements on `day`."""
    book_ids = [book.pk for book in books]
    with connection.cursor() as cursor:
        # Grouped by the accounts' book: a posting to another book's account shows as an
        # imbalance in both.
        cursor.execute(
            """
            SELECT a.book_id, a.kind,
                   coalesce(sum(p.amount) FILTER (WHERE p.amount > 0), 0),
                   coalesce(-sum(p.amount) FILTER (WHERE p.amount < 0), 0)
              FROM marketplace_posting p
              JOIN marketplace_account a ON a.id = p.account_id
              JOIN marketplace_journalentry e ON e.id = p.entry_id
             WHERE a.book_id = ANY(%s) AND e.business_date <= %s
             GROUP BY a.book_id, a.kind
            """,
            [book_ids, day],
        )
        lines = cursor.fetchall()
        cursor.execute(
            """
            SELECT e.book_id, e.kind, count(DISTINCT e.id),
                   coalesce(sum(p.amount) FILTER (WHERE p.amount > 0), 0)
              FROM marketplace_journalentry e
              JOIN marketplace_posting p ON p.entry_id = e.id
             WHERE e.book_id = ANY(%s) AND e.business_date = %s
             GROUP BY e.book_id, e.kind
            """,
            [book_ids, day],
        )
        movements = cursor.fetchall()
    account_order = list(AccountKind.values)
    entry_order = list(EntryKind.values)
    result = []
    for book in books:
        book_lines = sorted(
            (
                AccountKindTotal(
                    kind=kind,
                    label=_label(AccountKind, kind),
                    debits=cents(debits),
                    credits=cents(credits),
                )
                for book_id, kind, debits, credits in lines
                if book_id == book.pk
            ),
            key=lambda line: _position(account_order, line.kind),
        )
        book_movements = sorted(
            (
                EntryKindTotal(
                    kind=kind, label=_label(EntryKind, kind), count=count, amount=cents(amount)
                )
                for book_id, kind, count, amount in movements
                if book_id == book.pk
            ),
            key=lambda movement: _position(entry_order, movement.kind),
        )
        result.append(
            BookFigures(
                book_id=book.pk,
                code=book.code,
                name=book.name,
                lines=book_lines,
                movements=book_movements,
            )
        )
    return result


def _label(choices: type[TextChoices], value: str) -> str:
    return str(choices(value).label) if value in choices.values else value


def _position(order: list[str], value: str) -> int:
    return order.index(value) if value in order else len(order)
