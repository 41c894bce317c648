"""Pages of the wholesale markets, under /market/. Each views module lists its own routes."""

from .views import approvals, cards, counter, days, prices, reconciliation, trader

app_name = "markets"

urlpatterns = [
    *counter.urlpatterns,  # the operator's counter: trades, receipts, card top-ups, traders
    *approvals.urlpatterns,  # requests waiting for a supervisor, the cash-drawer count
    *days.urlpatterns,  # business days and their end of day reports
    *reconciliation.urlpatterns,  # trial balance, balances against postings, trades against entries
    *cards.urlpatterns,  # a buyer applies for a card, the market's operators issue it
    *trader.urlpatterns,  # a trader's balance and statements on her phone
    *prices.urlpatterns,  # the public daily price board
]
