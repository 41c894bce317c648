"""What a counter trade reads, as a function: PL/pgSQL keeps the query's plan for the session,
so the counter's hot path is not planned again for every trade (as a prepared statement
would, but one that PgBouncer's transaction pooling carries). The rules stay in Python
(marketplace.markets.trades); this only reads, the day's row FOR SHARE."""

from django.db import migrations

FORWARD = r"""
CREATE FUNCTION market_counter_context(
    p_by bigint, p_market bigint, p_book bigint, p_today date, p_product_id bigint,
    p_product_code text, p_buyer_card text, p_seller_card text
) RETURNS TABLE (
    staff boolean, day_status text, product bigint, product_name text, product_active boolean,
    rule numeric[], commission_account bigint, commission_slots integer, cards json
) LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY
    SELECT EXISTS (SELECT 1 FROM marketplace_marketstaff s
                    WHERE s.user_id = p_by AND s.market_id = p_market),
           (SELECT d.status::text FROM marketplace_marketday d
             WHERE d.market_id = p_market AND d.business_date = p_today FOR SHARE),
           p.id, p.name_zh::text, p.is_active,
           (SELECT array[r.buyer_pct, r.seller_pct, r.minimum_fee]
              FROM marketplace_commissionrule r
             WHERE r.market_id = p_market AND r.category IN (p.category, '')
             ORDER BY r.category DESC LIMIT 1),
           a.id, a.slots::integer,
           (SELECT json_agg(json_build_array(t.card_number, t.id, t.kind, t.is_active, c.id,
                                             c.slots))
              FROM marketplace_trader t
              JOIN marketplace_account c ON c.trader_id = t.id
               AND c.kind = CASE t.kind WHEN 'buyer' THEN 'prepaid' ELSE 'payable' END
             WHERE t.market_id = p_market AND t.card_number IN (p_buyer_card, p_seller_card))
      FROM marketplace_account a
      LEFT JOIN farms_product p ON p.id = p_product_id OR p.code = p_product_code
     WHERE a.book_id = p_book AND a.kind = 'commission' AND a.trader_id IS NULL
       AND a.user_id IS NULL;
END $$;
"""

BACKWARD = """
DROP FUNCTION market_counter_context(bigint, bigint, bigint, date, bigint, text, text, text);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0012_offline"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
