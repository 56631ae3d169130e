-- Yearly/monthly orders and their resources (50-other.md §A, §B): orders priced from the
-- catalogue, paid through the ledger (coupons, cards, cash, own credit) with one fee record per
-- line item, the resources paying creates, their renewals, unsubscription refunds and the expiry
-- steps (grace period → frozen → deleted). Money moves only through src/ledger/ (journals below).

alter table journal drop constraint journal_kind_check;
alter table journal add constraint journal_kind_check check (kind in (
    'deposit', 'credit_line', 'fund_customer', 'reclaim_customer',
    'fund_reseller', 'reclaim_reseller', 'adjustment', 'unbind_customer',
    'coupon_quota_grant', 'coupon_quota_adjust', 'coupon_issue', 'coupon_reclaim',
    'coupon_unbind', 'coupon_quota_issue', 'coupon_quota_reclaim',
    'usage_charge', 'usage_refund', 'debt_writeoff', 'card_sale', 'customer_deposit',
    'customer_credit_line',
    'rebate_grant', 'withdrawal_hold', 'withdrawal_release', 'withdrawal_payout',
    'credit_repayment',
    -- An order's line item paid (its trans_id is the line item's fee record id), and an
    -- unsubscription's refund of one charge back where it came from (the refund fee record id).
    'order_payment', 'order_refund'));

-- An order. Amounts in fen: official (list price), discount, payable (= amount_after_discount)
-- and how the payable was paid. The association at creation time is kept for the partner's view.
create table customer_order (
    id                        text primary key,
    customer_id               text not null references account (id),
    partner_id                text,
    distributor_id            text,
    association_type          smallint,
    manager_id                text,
    -- 1 new, 2 renew, 3 change, 4 unsubscribe, 10 period → on-demand, 11 on-demand → period.
    order_type                smallint not null constraint customer_order_type_check check (order_type in (1, 2, 3, 4, 10, 11, 13, 14, 15)),
    -- 2 pending refund, 4 cancelled, 5 completed, 6 pending payment (others are never written).
    status                    smallint not null constraint customer_order_status_check check (status in (1, 2, 3, 4, 5, 6, 9)),
    -- 1 customer, 2 agent (a partner with an assume-role token), 8 system-created (auto-renewal).
    source_type               smallint not null,
    service_type_code         text not null,
    -- The paid order a refund order gives money back from.
    base_order_id             text,
    official_amount           bigint not null,
    discount_amount           bigint not null default 0,
    payable                   bigint not null,
    coupon                    bigint not null default 0,
    cash_coupon               bigint not null default 0,
    card                      bigint not null default 0,
    cash                      bigint not null default 0,
    credit                    bigint not null default 0,
    -- The discount applied at payment (discount_type 3 partner-granted) and its id.
    discount_id               text,
    discount_type             smallint,
    is_auto_renew             boolean not null default false,
    create_time               timestamptz not null,
    payment_time              timestamptz,
    pending_payment_end_time  timestamptz,
    cancel_time               timestamptz,
    actor_id                  text not null,
    actor_kind                text not null constraint customer_order_actor_check check (actor_kind in ('customer', 'partner', 'system')),
    constraint customer_order_split_check check (
        status <> 5 or payable = coupon + cash_coupon + card + cash + credit),
    constraint customer_order_amounts_check check (official_amount = discount_amount + payable)
);
create index customer_order_customer_idx on customer_order (customer_id, create_time desc, id desc);
create index customer_order_customer_paid_idx on customer_order (customer_id, payment_time desc, id desc) where payment_time is not null;
create index customer_order_partner_idx on customer_order (partner_id, create_time desc, id desc) where partner_id is not null;
create index customer_order_partner_paid_idx on customer_order (partner_id, payment_time desc, id desc) where partner_id is not null and payment_time is not null;
create index customer_order_lower_id_idx on customer_order (lower(id));
-- Pending orders by the end of their payment window (the time rule cancels them then).
create index customer_order_pending_idx on customer_order (pending_payment_end_time) where status = 6;

-- A resource bought yearly/monthly. status: 2 in use, 3 closed (deleted/unsubscribed),
-- 4 frozen, 5 expired (grace period). expire_policy: 0 grace period, 3 auto-renew.
create table order_resource (
    id                       text primary key,
    customer_id              text not null references account (id),
    order_id                 text not null references customer_order (id),
    parent_resource_id       text,
    is_main                  boolean not null,
    product_id               text not null,
    service_type_code        text not null,
    resource_type_code       text not null,
    region_code              text not null,
    resource_spec_code       text,
    product_spec_desc        text not null,
    period_type              smallint not null constraint order_resource_period_check check (period_type in (2, 3)),
    period_num               integer not null,
    subscription_num         integer not null,
    status                   smallint not null constraint order_resource_status_check check (status in (2, 3, 4, 5)),
    effective_time           timestamptz not null,
    expire_time              timestamptz not null,
    expire_policy            smallint not null,
    is_auto_renew            boolean not null default false,
    -- Auto-renewals allowed (0 = unlimited), done so far, and the period each one buys.
    auto_renew_times         integer not null default 0,
    auto_renewed             integer not null default 0,
    auto_renew_period_type   smallint not null,
    -- Set when the resource was switched to pay-per-use at expiry (update_period_to_on_demand).
    to_on_demand             boolean not null default false,
    -- The expiry an auto-renewal failed for (no money): not retried for that expiry.
    auto_renew_failed_for    timestamptz,
    frozen_at                timestamptz,
    deleted_at               timestamptz,
    update_time              timestamptz not null
);
create index order_resource_customer_idx on order_resource (customer_id, expire_time, id);
create index order_resource_order_idx on order_resource (order_id, id);
-- The time rules' work list: resources still alive, by expiry.
create index order_resource_due_idx on order_resource (expire_time) where status in (2, 4, 5);

-- One product line of an order. For a new order the resource is created at payment; for renewal
-- and unsubscribe orders it names the resource. The fee record paid (or refunded) is named.
create table order_line_item (
    id                 text primary key,
    order_id           text not null references customer_order (id),
    seq                smallint not null,
    resource_id        text,
    is_main            boolean not null,
    product_id         text not null,
    service_type_code  text not null,
    resource_type_code text not null,
    region_code        text not null,
    product_spec_desc  text not null,
    period_type        smallint,
    period_num         integer,
    subscription_num   integer not null,
    official_amount    bigint not null,
    discount_amount    bigint not null default 0,
    payable            bigint not null,
    coupon             bigint not null default 0,
    cash_coupon        bigint not null default 0,
    card               bigint not null default 0,
    cash               bigint not null default 0,
    credit             bigint not null default 0,
    effective_time     timestamptz,
    expire_time        timestamptz,
    fee_record_id      text,
    -- For an unsubscribe line: the charge (fee record) it refunds and that charge's order.
    refunded_fee_id    text,
    base_order_id      text,
    constraint order_line_item_order_seq_key unique (order_id, seq)
);
create index order_line_item_resource_idx on order_line_item (resource_id) where resource_id is not null;

-- Every step of a resource's life, with who took it (the partner for an assume-role token).
create table resource_event (
    id           bigint generated always as identity primary key,
    resource_id  text not null references order_resource (id),
    event_type   text not null constraint resource_event_type_check check (event_type in (
        'created', 'renewed', 'auto_renewed', 'auto_renew_failed', 'auto_renew_on', 'auto_renew_off',
        'grace', 'frozen', 'deleted', 'unsubscribed', 'to_on_demand_set', 'to_on_demand_cancel',
        'to_on_demand')),
    at           timestamptz not null,
    order_id     text,
    actor_id     text not null,
    actor_kind   text not null constraint resource_event_actor_check check (actor_kind in ('customer', 'partner', 'system'))
);
create index resource_event_resource_idx on resource_event (resource_id, id);

-- A customer's renewal settings (set_resources_renew_config): auto-renewals deduct this many days
-- before expiry (2–7; default orders.renew_days_before).
create table renew_config (
    customer_id     text primary key references account (id),
    deduction_days  smallint not null constraint renew_config_days_check check (deduction_days between 2 and 7),
    updated_at      timestamptz not null
);
