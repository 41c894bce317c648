"""Pages of a trader on her phone: her cards' balances, today's trades, her statements.

Any signed-in user may open them; she sees only the traders linked to her account (a user
linked to none sees an empty state). A statement she may not read is a 404; the market's
staff download their traders' statements through the same URLs.
"""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path

from accounts.permissions import get_visible_or_404
from common.dates import business_today
from marketplace.views import price_label

from ..cards import may_apply
from ..selectors.trader import (
    own_statements,
    platform_balances,
    statements_visible_to,
    trader_accounts,
    traders_of,
)
from ..statements import statement_csv, statement_pdf

PAGE_SIZE = 30


@login_required
def my_account(request):
    """Per market: the card's balance in big figures, today's trades, the latest statements."""
    today = business_today()
    accounts = trader_accounts(request.user, business_date=today)
    for account in accounts:
        for line in account.trades:
            line.trade.price_label = price_label(line.trade.unit_price, request.user)
    return render(
        request,
        "marketplace/markets/trader/my_account.html",
        {
            "accounts": accounts,
            "platform": platform_balances(request.user),
            "today": today,
            "may_apply": may_apply(request.user),
        },
    )


@login_required
def my_statements(request):
    """All her statements, newest first, `?trader=<id>` for one card's."""
    statements = own_statements(request.user)
    traders = list(traders_of(request.user))
    chosen = next((t for t in traders if str(t.pk) == request.GET.get("trader")), None)
    if chosen is not None:
        statements = statements.filter(trader=chosen)
    page = Paginator(statements, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "marketplace/markets/trader/my_statements.html",
        {
            "page": page,
            "traders": traders,
            "chosen": chosen,
            "query": f"trader={chosen.pk}" if chosen else "",
        },
    )


def _file_name(statement, extension: str) -> str:
    trader = statement.trader
    return (
        f"statement-{trader.market.code}-{trader.card_number[-4:]}-"
        f"{statement.business_date.isoformat()}.{extension}"
    )


@login_required
def statement_pdf_download(request, pk: int):
    statement = get_visible_or_404(statements_visible_to(request.user), pk=pk)
    response = HttpResponse(statement_pdf(statement), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_file_name(statement, "pdf")}"'
    return response


@login_required
def statement_csv_download(request, pk: int):
    statement = get_visible_or_404(statements_visible_to(request.user), pk=pk)
    response = HttpResponse(
        statement_csv(statement).encode("utf-8"), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{_file_name(statement, "csv")}"'
    return response


urlpatterns = [
    path("me/", my_account, name="my_account"),
    path("me/statements/", my_statements, name="my_statements"),
    path("me/statements/<int:pk>.pdf", statement_pdf_download, name="statement_pdf"),
    path("me/statements/<int:pk>.csv", statement_csv_download, name="statement_csv"),
]
