-- Coupon quotas and partner coupons (30-coupons.md). Balances live in the ledger: a quota's
-- remaining balance is the `partner_coupon_quota` account owned by the quota id; a coupon's
-- remaining balance is the `customer_coupon_value` account owned by the coupon id.

alter table journal drop constraint journal_kind_check;
alter table journal add constraint journal_kind_check check (kind in (
    'deposit', 'credit_line', 'fund_customer', 'reclaim_customer',
    'fund_reseller', 'reclaim_reseller', 'adjustment', 'unbind_customer',
    'coupon_quota_grant', 'coupon_quota_adjust', 'coupon_issue', 'coupon_reclaim',
    'coupon_unbind', 'coupon_quota_issue', 'coupon_quota_reclaim'));

create table coupon_quota (
    id                    text primary key,
    partner_id            text not null references partner (account_id),
    -- Set for a reseller quota carved out of a distributor's quota.
    parent_quota_id       text references coupon_quota (id),
    quota_type            smallint not null constraint coupon_quota_type_check check (quota_type in (0, 1)),
    -- Total value granted (fen); the remaining balance is in the ledger.
    quota_value           bigint not null constraint coupon_quota_value_check check (quota_value >= 0),
    -- Stored status: 0 normal, 3 invalidated, 4 being adjusted, 5 frozen, 6 reclaimed. Expiry (3)
    -- is derived from expire_time when read.
    status                smallint not null default 0 constraint coupon_quota_status_check check (status in (0, 3, 4, 5, 6)),
    effective_time        timestamptz not null,
    expire_time           timestamptz not null,
    min_face_value        bigint,
    max_face_value        bigint,
    max_coupons_per_issue integer,
    cloud_service_types   text[] not null default '{}',
    product_ids           text[] not null default '{}',
    first_time_only       boolean not null default false,
    designated_customers  text[] not null default '{}',
    created_at            timestamptz not null,
    updated_at            timestamptz not null,
    constraint coupon_quota_window_check check (effective_time < expire_time)
);
create index coupon_quota_partner_idx on coupon_quota (partner_id, created_at desc, id desc);
create index coupon_quota_parent_idx on coupon_quota (parent_quota_id);

create table partner_coupon (
    id                   text primary key,
    quota_id             text not null references coupon_quota (id),
    -- The partner whose quota issued it (a reseller when a distributor acted for it).
    partner_id           text not null references partner (account_id),
    customer_id          text not null references account (id),
    coupon_type          smallint not null constraint partner_coupon_type_check check (coupon_type in (1, 4)),
    face_value           bigint not null constraint partner_coupon_face_check check (face_value > 0),
    -- Stored status: 1 not activated, 2 usable, 3 used up, 5 reclaimed. Activation (1 → 2) and
    -- expiry (4) are derived from the times when read.
    status               smallint not null constraint partner_coupon_status_check check (status in (1, 2, 3, 5)),
    effective_time       timestamptz not null,
    expire_time          timestamptz not null,
    memo                 text,
    cloud_service_types  text[] not null default '{}',
    product_ids          text[] not null default '{}',
    created_at           timestamptz not null,
    updated_at           timestamptz not null
);
create index partner_coupon_partner_idx on partner_coupon (partner_id, created_at desc, id desc);
create index partner_coupon_customer_idx on partner_coupon (customer_id, created_at desc);

-- Issue/reclaim records of partner coupons (op. 5). The id is the journal's trans_id for
-- successful operations.
create table coupon_record (
    id              text primary key,
    partner_id      text not null references partner (account_id),
    -- Who called (the partner, or the distributor acting for its reseller); the remark is shown
    -- only to this caller.
    issuer_id       text not null,
    operator_id     text not null,
    operation_type  text not null constraint coupon_record_operation_type_check check (operation_type in ('1', '2', '3', '4', '5', '6', '7', '8', '9')),
    quota_id        text not null,
    quota_type      smallint not null,
    coupon_id       text,
    customer_id     text not null,
    amount          bigint not null,
    result          text not null constraint coupon_record_result_check check (result in ('0', '-1')),
    remark          text,
    created_at      timestamptz not null
);
create index coupon_record_partner_idx on coupon_record (partner_id, created_at desc, id desc);

-- A distributor's quota issued to / reclaimed from its resellers (op. 8).
create table quota_record (
    id                   text primary key,
    partner_id           text not null references partner (account_id),
    operator_id          text not null,
    operation_type       text not null constraint quota_record_operation_type_check check (operation_type in ('10', '11')),
    quota_id             text not null,
    parent_quota_id      text not null,
    indirect_partner_id  text not null,
    amount               bigint not null,
    result               text not null,
    remark               text,
    created_at           timestamptz not null
);
create index quota_record_partner_idx on quota_record (partner_id, created_at desc, id desc);
