-- Un-association and leaving reseller mode return the customer's balance: journal kind
-- 'unbind_customer' (adjust records show SOURCE_OPERATION_BEUNBIND).
alter table journal drop constraint journal_kind_check;
alter table journal add constraint journal_kind_check check (kind in (
    'deposit', 'credit_line', 'fund_customer', 'reclaim_customer',
    'fund_reseller', 'reclaim_reseller', 'adjustment', 'unbind_customer'));
