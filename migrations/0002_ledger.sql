-- The ledger: accounts with materialised balances, append-only journals and postings.
-- Only src/ledger/ writes these tables. Amounts are integer fen (or integer units of a non-cash
-- asset); every journal's postings sum to zero per asset (checked at commit by a deferred
-- constraint trigger), so the sum of all balances of an asset is always zero.

create table ledger_account (
    id            bigint generated always as identity primary key,
    -- The owning partner/customer account id, or 'system' for the vendor's own accounts.
    owner_id      text not null,
    purpose       text not null constraint ledger_account_purpose_check check (purpose in (
                      'partner_cash', 'partner_credit', 'customer_cash',
                      'vendor_deposits', 'credit_lines',
                      'partner_coupon_quota', 'coupon_quota_source',
                      'customer_coupon_value', 'coupon_value_source',
                      'withdrawal_clearing', 'usage_charged', 'payouts')),
    asset         text not null constraint ledger_account_asset_check check (asset in ('CNY', 'COUPON_QUOTA', 'COUPON_VALUE')),
    balance       bigint not null default 0,
    -- The lowest balance allowed; null = none (system source accounts). For partner cash the floor
    -- is the designated ("专款专用") amount, so fundable = balance - floor is never negative.
    floor         bigint,
    -- Total credit line (partner_credit accounts only); the balance is the unused credit.
    credit_limit  bigint not null default 0 constraint ledger_account_credit_limit_check check (credit_limit >= 0),
    created_at    timestamptz not null default now(),
    constraint ledger_account_owner_purpose_key unique (owner_id, purpose, asset),
    constraint ledger_account_floor_check check (floor is null or balance >= floor)
);

create table journal (
    id          bigint generated always as identity primary key,
    trans_id    text not null constraint journal_trans_id_key unique,
    kind        text not null constraint journal_kind_check check (kind in (
                    'deposit', 'credit_line', 'fund_customer', 'reclaim_customer',
                    'fund_reseller', 'reclaim_reseller', 'adjustment')),
    created_at  timestamptz not null
);

create table posting (
    id             bigint generated always as identity primary key,
    journal_id     bigint not null references journal (id),
    account_id     bigint not null references ledger_account (id),
    asset          text not null,
    amount         bigint not null constraint posting_amount_nonzero check (amount <> 0),
    balance_after  bigint not null,
    created_at     timestamptz not null,
    constraint posting_journal_account_key unique (journal_id, account_id)
);
create index posting_account_idx on posting (account_id, id desc);

-- A journal must have at least two postings and sum to zero per asset; checked at commit so the
-- journal row and its postings can be written in any order inside the transaction.
create function ledger_check_journal(jid bigint) returns void language plpgsql as $$
declare
    n int;
begin
    select count(*) into n from posting where journal_id = jid;
    if n < 2 then
        raise exception 'ledger: journal % has % posting(s); at least 2 are required', jid, n
            using errcode = 'check_violation', constraint = 'journal_balanced';
    end if;
    if exists (select 1 from posting where journal_id = jid group by asset having sum(amount) <> 0) then
        raise exception 'ledger: journal % does not sum to zero per asset', jid
            using errcode = 'check_violation', constraint = 'journal_balanced';
    end if;
end $$;

create function ledger_journal_balanced() returns trigger language plpgsql as $$
begin
    perform ledger_check_journal(new.id);
    return null;
end $$;

create function ledger_posting_balanced() returns trigger language plpgsql as $$
begin
    perform ledger_check_journal(new.journal_id);
    return null;
end $$;

create constraint trigger journal_balanced after insert on journal
    deferrable initially deferred for each row execute function ledger_journal_balanced();
create constraint trigger posting_balanced after insert on posting
    deferrable initially deferred for each row execute function ledger_posting_balanced();

-- Append-only: corrections are new reversing journals.
create function ledger_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'ledger: % is append-only (% refused)', tg_table_name, tg_op
        using errcode = 'insufficient_privilege';
end $$;

create trigger journal_append_only before update or delete on journal
    for each row execute function ledger_append_only();
create trigger posting_append_only before update or delete on posting
    for each row execute function ledger_append_only();
create trigger journal_no_truncate before truncate on journal
    for each statement execute function ledger_append_only();
create trigger posting_no_truncate before truncate on posting
    for each statement execute function ledger_append_only();

-- The vendor's system accounts that later issues use; created here so they always exist.
insert into ledger_account (owner_id, purpose, asset, floor) values
    ('system', 'vendor_deposits', 'CNY', null),
    ('system', 'credit_lines', 'CNY', null),
    ('system', 'withdrawal_clearing', 'CNY', null),
    ('system', 'usage_charged', 'CNY', null),
    ('system', 'payouts', 'CNY', null),
    ('system', 'coupon_quota_source', 'COUPON_QUOTA', null),
    ('system', 'coupon_value_source', 'COUPON_VALUE', null);

-- Funding and reclaiming between a partner and a customer or reseller (adjust records, op. 4).
-- A business row written in the same transaction as its journal.
create table adjust_record (
    -- Deferred so the record can be written before the journal, outside the accounts' row locks.
    trans_id          text primary key references journal (trans_id) deferrable initially deferred,
    -- The funding party: the partner whose balance moved (a reseller when a distributor acted for it).
    partner_id        text not null references partner (account_id),
    -- Who called (the partner itself, or the distributor acting for a reseller).
    operator_id       text not null references account (id),
    counterparty_id   text not null references account (id),
    counterparty_kind text not null constraint adjust_record_counterparty_kind_check check (counterparty_kind in ('customer', 'reseller')),
    operation_type    text not null constraint adjust_record_operation_type_check check (operation_type in (
                          'SOURCE_OPERATION_BEADJUST', 'SOURCE_OPERATION_BERETRIEVE', 'SOURCE_OPERATION_BEUNBIND')),
    amount            bigint not null constraint adjust_record_amount_positive check (amount > 0),
    created_at        timestamptz not null
);
create index adjust_record_partner_idx on adjust_record (partner_id, created_at desc, trans_id desc);

-- Stored outcomes of money-moving calls that carried an Idempotency-Key, per caller.
create table idempotency_key (
    caller_id     text not null,
    key           text not null,
    request_hash  text not null,
    status        smallint not null,
    body          text not null,
    created_at    timestamptz not null,
    constraint idempotency_key_pkey primary key (caller_id, key)
);
