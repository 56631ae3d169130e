-- Consumption (40-bills.md): usage events rated into fee records, paid through the ledger in the
-- deduction order (vouchers, cash coupons, stored-value cards, cash, own credit, then arrears),
-- with monthly sums maintained in the same transaction as the charge.

-- Ledger: the accounts and journals consumption needs.
alter table ledger_account drop constraint ledger_account_purpose_check;
alter table ledger_account add constraint ledger_account_purpose_check check (purpose in (
    'partner_cash', 'partner_credit', 'customer_cash',
    'vendor_deposits', 'credit_lines',
    'partner_coupon_quota', 'coupon_quota_source',
    'customer_coupon_value', 'coupon_value_source',
    'withdrawal_clearing', 'usage_charged', 'payouts',
    -- A customer's own credit line (unused credit; floor 0), its arrears (balance = −debt; no
    -- floor, never above 0), a stored-value card's balance (owned by the card id), and where
    -- spent coupon value goes.
    'customer_credit', 'customer_debt', 'stored_value_card', 'coupon_value_used'));

alter table journal drop constraint journal_kind_check;
alter table journal add constraint journal_kind_check check (kind in (
    'deposit', 'credit_line', 'fund_customer', 'reclaim_customer',
    'fund_reseller', 'reclaim_reseller', 'adjustment', 'unbind_customer',
    'coupon_quota_grant', 'coupon_quota_adjust', 'coupon_issue', 'coupon_reclaim',
    'coupon_unbind', 'coupon_quota_issue', 'coupon_quota_reclaim',
    'usage_charge', 'usage_refund', 'debt_writeoff', 'card_sale', 'customer_deposit',
    'customer_credit_line'));

insert into ledger_account (owner_id, purpose, asset, floor) values
    ('system', 'coupon_value_used', 'COUPON_VALUE', null);

-- A customer's arrears account only ever holds 0 or less.
alter table ledger_account add constraint ledger_account_debt_check
    check (purpose <> 'customer_debt' or balance <= 0);

-- A discount rate a partner grants its customer (discount_type 3): payable = official × rate.
alter table customer add column partner_discount_rate numeric(5, 4)
    constraint customer_partner_discount_rate_check check (partner_discount_rate > 0 and partner_discount_rate <= 1);

-- Stored-value cards sold by the vendor to a customer; the balance is the ledger account
-- `stored_value_card` owned by the card id. Status 2 (used up) is written when it reaches 0.
create table stored_value_card (
    id              text primary key,
    customer_id     text not null references account (id),
    card_name       text not null,
    face_value      bigint not null constraint stored_value_card_face_check check (face_value > 0),
    status          smallint not null default 1 constraint stored_value_card_status_check check (status in (1, 2)),
    effective_time  timestamptz not null,
    expire_time     timestamptz not null,
    created_at      timestamptz not null,
    constraint stored_value_card_window_check check (effective_time < expire_time)
);
create index stored_value_card_customer_idx on stored_value_card (customer_id, status, expire_time, id);

-- Usage events are charged at most once, for ever: the row is written in the charge's transaction.
create table usage_event (
    event_id       text primary key,
    fee_record_id  text not null,
    created_at     timestamptz not null
);

-- Fee records (consumption details), partitioned by bill cycle (the month of the usage's begin time
-- in UTC+8, as its first day). Money columns: exact decimals for the rated amounts, integer fen for
-- what was paid and how. Refund and adjustment rows are negative.
create table fee_record (
    id                     text not null,
    cycle                  date not null,
    customer_id            text not null,
    -- The association at charge time: the direct partner (a reseller for a reseller's customer),
    -- that reseller's distributor, the association type and the assigned customer manager.
    partner_id             text,
    distributor_id         text,
    association_type       smallint,
    manager_id             text,
    event_id               text,
    -- The charge a refund/adjustment row reverses.
    original_id            text,
    -- Detailed bill type (5 usage, 4 refund, 9 adjustment, …) and charging mode (3 pay-per-use).
    bill_type              smallint not null,
    charging_mode          smallint not null,
    service_type_code      text not null,
    resource_type_code     text not null,
    region_code            text not null,
    product_id             text not null,
    usage_type             text,
    usage                  numeric(30, 10),
    usage_measure_id       integer,
    unit_price             numeric(20, 8),
    price_measure_id       integer,
    resource_id            text not null,
    resource_name          text,
    enterprise_project_id  text,
    begin_time             timestamptz not null,
    end_time               timestamptz not null,
    trade_time             timestamptz not null,
    trade_id               text not null,
    official_amount        numeric(30, 10) not null,
    discount_amount        numeric(30, 10) not null,
    erase_amount           numeric(30, 10) not null,
    payable                bigint not null,
    coupon                 bigint not null default 0,
    cash_coupon            bigint not null default 0,
    card                   bigint not null default 0,
    cash                   bigint not null default 0,
    credit                 bigint not null default 0,
    debt                   bigint not null default 0,
    writeoff               bigint not null default 0,
    reason                 text,
    constraint fee_record_pkey primary key (cycle, id),
    constraint fee_record_split_check check (payable = coupon + cash_coupon + card + cash + credit + debt + writeoff),
    constraint fee_record_amounts_check check (official_amount = discount_amount + erase_amount + payable / 100.0)
) partition by range (cycle);
create index fee_record_customer_idx on fee_record (customer_id, cycle, trade_time desc, id desc);
create index fee_record_customer_resource_idx on fee_record (customer_id, cycle, resource_id);
create index fee_record_original_idx on fee_record (original_id) where original_id is not null;

-- Creates the month partition of `c` when missing (ingestion calls it for a new cycle).
create function fee_record_partition(c date) returns void language plpgsql as $$
declare
    m date := date_trunc('month', c)::date;
    name text := 'fee_record_' || to_char(m, 'YYYYMM');
begin
    if to_regclass(name) is null then
        execute format('create table if not exists %I partition of fee_record for values from (%L) to (%L)',
                       name, m, (m + interval '1 month')::date);
    end if;
end $$;

do $$
declare m date := date '2024-01-01';
begin
    while m < date '2028-01-01' loop
        perform fee_record_partition(m);
        m := (m + interval '1 month')::date;
    end loop;
end $$;

-- Monthly sums, one row per (cycle, customer, association at charge time, service, resource,
-- charging mode, summary bill type, enterprise project); upserted in the charge's transaction.
-- Summary bill type: 1 consumption, 2 refund, 3 adjustment.
create table bill_sum (
    id                     bigint generated always as identity primary key,
    cycle                  date not null,
    customer_id            text not null,
    partner_id             text,
    distributor_id         text,
    association_type       smallint,
    manager_id             text,
    service_type_code      text not null,
    resource_type_code     text not null,
    charging_mode          smallint not null,
    bill_type              smallint not null,
    enterprise_project_id  text,
    official_amount        numeric(30, 10) not null,
    discount_amount        numeric(30, 10) not null,
    erase_amount           numeric(30, 10) not null,
    payable                bigint not null,
    coupon                 bigint not null,
    cash_coupon            bigint not null,
    card                   bigint not null,
    cash                   bigint not null,
    credit                 bigint not null,
    debt                   bigint not null,
    writeoff               bigint not null,
    records                bigint not null,
    constraint bill_sum_key unique nulls not distinct (cycle, customer_id, partner_id, distributor_id,
        association_type, manager_id, service_type_code, resource_type_code, charging_mode, bill_type,
        enterprise_project_id)
);
create index bill_sum_customer_idx on bill_sum (customer_id, cycle);
create index bill_sum_partner_idx on bill_sum (partner_id, cycle, customer_id) where partner_id is not null;
create index bill_sum_distributor_idx on bill_sum (distributor_id, cycle, customer_id) where distributor_id is not null;
create index bill_sum_manager_idx on bill_sum (manager_id, cycle, customer_id) where manager_id is not null;
