-- Requests that change a partner–customer relationship and need the other side's consent:
-- switching to resale (partner asks, customer consents) and un-association (either side asks,
-- the other approves). Unanswered requests expire (see service::association::REQUEST_TTL_DAYS).

create table association_request (
    id             bigint generated always as identity primary key,
    customer_id    text not null references customer (account_id),
    partner_id     text not null references partner (account_id),
    kind           text not null constraint association_request_kind_check check (kind in ('switch_to_resale', 'unassociate')),
    initiated_by   text not null constraint association_request_initiator_check check (initiated_by in ('partner', 'customer')),
    initiator_id   text not null,
    reason         text not null,
    status         text not null default 'pending' constraint association_request_status_check check (status in ('pending', 'approved', 'rejected', 'expired')),
    decided_by     text,
    decision_reason text,
    created_at     timestamptz not null,
    expires_at     timestamptz not null,
    decided_at     timestamptz
);
-- At most one open request per customer.
create unique index association_request_one_pending on association_request (customer_id) where status = 'pending';
create index association_request_partner_idx on association_request (partner_id, created_at desc, id desc);
create index association_request_expiry_idx on association_request (expires_at) where status = 'pending';
