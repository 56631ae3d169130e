-- Partner money out (issue 11): top-ups (recharges) confirmed by the vendor, the partner bill
-- (posted monthly snapshots), invoices, incentive rebates and withdrawals with held funds.
-- Money moves only through src/ledger/ (journals below); these tables are business rows.

-- Ledger: a partner's rebate balance, its two withdrawal holds (cash and rebate) and the vendor's
-- source of rebates.
alter table ledger_account drop constraint ledger_account_purpose_check;
alter table ledger_account add constraint ledger_account_purpose_check check (purpose in (
    'partner_cash', 'partner_credit', 'customer_cash',
    'vendor_deposits', 'credit_lines',
    'partner_coupon_quota', 'coupon_quota_source',
    'customer_coupon_value', 'coupon_value_source',
    'withdrawal_clearing', 'usage_charged', 'payouts',
    'customer_credit', 'customer_debt', 'stored_value_card', 'coupon_value_used',
    'partner_rebate', 'withdrawal_hold', 'rebate_withdrawal_hold', 'rebate_source'));

alter table journal drop constraint journal_kind_check;
alter table journal add constraint journal_kind_check check (kind in (
    'deposit', 'credit_line', 'fund_customer', 'reclaim_customer',
    'fund_reseller', 'reclaim_reseller', 'adjustment', 'unbind_customer',
    'coupon_quota_grant', 'coupon_quota_adjust', 'coupon_issue', 'coupon_reclaim',
    'coupon_unbind', 'coupon_quota_issue', 'coupon_quota_reclaim',
    'usage_charge', 'usage_refund', 'debt_writeoff', 'card_sale', 'customer_deposit',
    'customer_credit_line',
    'rebate_grant', 'withdrawal_hold', 'withdrawal_release', 'withdrawal_payout',
    'credit_repayment'));

insert into ledger_account (owner_id, purpose, asset, floor) values
    ('system', 'rebate_source', 'CNY', null);

-- Top-ups: PENDING until the vendor confirms (a `recharge` journal into the partner's cash) or
-- rejects. A confirmed amount is "unposted" for withdrawals.clearing_days after confirmed_at.
create table recharge (
    id            text primary key,
    partner_id    text not null references partner (account_id),
    operator_id   text not null,
    amount        bigint not null constraint recharge_amount_positive check (amount > 0),
    method        text not null constraint recharge_method_check check (method in ('ONLINE', 'REMITTANCE')),
    reference     text,
    status        text not null constraint recharge_status_check check (status in ('PENDING', 'CONFIRMED', 'REJECTED')),
    reason        text,
    trans_id      text,
    created_at    timestamptz not null,
    confirmed_at  timestamptz,
    updated_at    timestamptz not null
);
create index recharge_partner_idx on recharge (partner_id, created_at desc, id desc);
create index recharge_partner_status_idx on recharge (partner_id, status, created_at desc, id desc);
create index recharge_clearing_idx on recharge (partner_id, confirmed_at) where status = 'CONFIRMED';

-- Incentive rebates granted by the vendor (a `rebate_grant` journal into partner_rebate).
create table rebate_grant (
    trans_id    text primary key,
    partner_id  text not null references partner (account_id),
    amount      bigint not null constraint rebate_grant_amount_positive check (amount > 0),
    remark      text,
    created_at  timestamptz not null
);
create index rebate_grant_partner_idx on rebate_grant (partner_id, created_at desc);

-- Withdrawals (提现): the amount is held in the ledger at request time (withdrawal_hold /
-- rebate_withdrawal_hold), paid out to `payouts` or released back.
create table withdrawal (
    id                        text primary key,
    partner_id                text not null references partner (account_id),
    operator_id               text not null,
    withdrawal_type           text not null constraint withdrawal_type_check check (withdrawal_type in ('CASH', 'REBATE')),
    amount                    bigint not null constraint withdrawal_amount_positive check (amount > 0),
    status                    text not null constraint withdrawal_status_check check (status in (
                                  'PENDING_REVIEW', 'PAYING', 'PAID', 'REJECTED', 'CANCELLED')),
    account_name              text not null,
    account_no                text not null,
    bank_name                 text not null,
    branch                    text,
    rebate_invoice_reference  text,
    payout_reference          text,
    reject_reason             text,
    hold_trans_id             text not null,
    settle_trans_id           text,
    deleted_at                timestamptz,
    created_at                timestamptz not null,
    updated_at                timestamptz not null
);
create index withdrawal_partner_idx on withdrawal (partner_id, created_at desc, id desc) where deleted_at is null;
create index withdrawal_partner_status_idx on withdrawal (partner_id, status, created_at desc, id desc) where deleted_at is null;

create table withdrawal_event (
    id             bigint generated always as identity primary key,
    withdrawal_id  text not null references withdrawal (id),
    from_status    text,
    to_status      text not null,
    actor          text not null,
    note           text,
    created_at     timestamptz not null
);
create index withdrawal_event_idx on withdrawal_event (withdrawal_id, id);

-- The partner bill: a cycle is POSTED (immutable) from the 5th 12:00 UTC+8 of the next month; its
-- lines are a snapshot. Lines with origin_cycle <> cycle are late corrections of an earlier
-- posted cycle carried into this one.
create table partner_bill (
    partner_id  text not null references partner (account_id),
    cycle       date not null,
    posted_at   timestamptz not null,
    amount      bigint not null,
    constraint partner_bill_pkey primary key (partner_id, cycle)
);

create table partner_bill_line (
    id                 bigint generated always as identity primary key,
    partner_id         text not null,
    cycle              date not null,
    origin_cycle       date not null,
    service_type_code  text not null,
    charging_mode      smallint not null,
    bill_type          smallint not null,
    payable            bigint not null,
    coupon             bigint not null,
    cash_coupon        bigint not null,
    card               bigint not null,
    cash               bigint not null,
    credit             bigint not null,
    debt               bigint not null,
    writeoff           bigint not null,
    amount             bigint not null,
    constraint partner_bill_line_bill_fkey foreign key (partner_id, cycle) references partner_bill (partner_id, cycle)
);
create index partner_bill_line_idx on partner_bill_line (partner_id, cycle);
create index partner_bill_line_origin_idx on partner_bill_line (partner_id, origin_cycle);

-- Posted bills never change.
create function partner_bill_immutable() returns trigger language plpgsql as $$
begin
    raise exception 'partner bills are immutable (% refused on %)', tg_op, tg_table_name
        using errcode = 'insufficient_privilege';
end $$;
create trigger partner_bill_immutable before update or delete on partner_bill
    for each row execute function partner_bill_immutable();
create trigger partner_bill_line_immutable before update or delete on partner_bill_line
    for each row execute function partner_bill_immutable();

-- Invoices requested by the partner for posted cycles; the vendor moves their states.
create table invoice (
    id            text primary key,
    partner_id    text not null references partner (account_id),
    operator_id   text not null,
    invoice_type  text not null constraint invoice_type_check check (invoice_type in ('VAT_NORMAL', 'VAT_SPECIAL')),
    medium        text not null constraint invoice_medium_check check (medium in ('PAPER', 'ELECTRONIC', 'DIGITAL')),
    title_type    text not null constraint invoice_title_type_check check (title_type in ('ENTERPRISE', 'INDIVIDUAL')),
    title         text not null,
    tax_id        text,
    address       text,
    amount        bigint not null constraint invoice_amount_positive check (amount > 0),
    status        text not null constraint invoice_status_check check (status in (
                      'DRAFT', 'ISSUING', 'ISSUE_FAILED', 'PENDING_RECEIPT', 'ISSUED',
                      'REVOKING', 'REVOKE_FAILED', 'REVOKED', 'RETURNING', 'RETURN_FAILED', 'RETURNED')),
    invoice_no    text,
    created_at    timestamptz not null,
    updated_at    timestamptz not null,
    constraint invoice_special_title_check check (invoice_type <> 'VAT_SPECIAL' or title_type = 'ENTERPRISE')
);
create index invoice_partner_idx on invoice (partner_id, created_at desc, id desc);
create index invoice_partner_status_idx on invoice (partner_id, status, created_at desc, id desc);

create table invoice_item (
    id          bigint generated always as identity primary key,
    invoice_id  text not null references invoice (id),
    partner_id  text not null,
    cycle       date not null,
    amount      bigint not null,
    -- false once the invoice is revoked or returned: the cycle may be invoiced again.
    active      boolean not null default true
);
-- An amount (a cycle) is invoiced once.
create unique index invoice_item_once on invoice_item (partner_id, cycle) where active;
create index invoice_item_invoice_idx on invoice_item (invoice_id);

create table invoice_event (
    id           bigint generated always as identity primary key,
    invoice_id   text not null references invoice (id),
    from_status  text,
    to_status    text not null,
    actor        text not null,
    note         text,
    created_at   timestamptz not null
);
create index invoice_event_idx on invoice_event (invoice_id, id);

-- A partner that names a verification mobile needs a code sent to it (send-verification-code,
-- scene 29) with every withdrawal request.
create table withdrawal_setting (
    partner_id           text primary key references partner (account_id),
    verification_mobile  text,
    updated_at           timestamptz not null
);
