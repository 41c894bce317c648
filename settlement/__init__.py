"""Settlement: the platform's one ledger for markets, marketplace orders and consumer orders."""
