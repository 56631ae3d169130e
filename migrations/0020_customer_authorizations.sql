-- Issue 10, parts 1–2: a resale customer's authorisation of its partner (申请客户授权), its
-- history, and the log of every request made with an assume-role token.

create table customer_authorization (
    id           text primary key,
    partner_id   text not null references partner (account_id),
    customer_id  text not null references customer (account_id),
    scope        text not null constraint customer_authorization_scope_check
                     check (scope in ('order', 'order_and_resource')),
    reason       text not null,
    status       text not null constraint customer_authorization_status_check
                     check (status in ('PENDING', 'APPROVED', 'REJECTED', 'REVOKED', 'EXPIRED')),
    expire_time  timestamptz,
    -- The partner's account or operator that asked.
    requested_by text not null,
    created_at   timestamptz not null,
    updated_at   timestamptz not null,
    decided_at   timestamptz,
    decision_reason text,
    ended_at     timestamptz,
    -- Who revoked it: `partner` | `customer` (or `system` for an expiry).
    ended_by_kind text
);
-- At most one open (pending or approved) authorisation per partner and customer.
create unique index customer_authorization_one_open
    on customer_authorization (partner_id, customer_id) where status in ('PENDING', 'APPROVED');
-- The lists, newest first: one index per filter set.
create index customer_authorization_partner_idx
    on customer_authorization (partner_id, created_at desc, id desc);
create index customer_authorization_partner_status_idx
    on customer_authorization (partner_id, status, created_at desc, id desc);
create index customer_authorization_partner_customer_idx
    on customer_authorization (partner_id, customer_id, created_at desc, id desc);
create index customer_authorization_partner_customer_status_idx
    on customer_authorization (partner_id, customer_id, status, created_at desc, id desc);
create index customer_authorization_customer_idx
    on customer_authorization (customer_id, created_at desc, id desc);
create index customer_authorization_customer_status_idx
    on customer_authorization (customer_id, status, created_at desc, id desc);
-- The expiry rule: approved authorisations by expiry time.
create index customer_authorization_expiry_idx
    on customer_authorization (expire_time) where status = 'APPROVED' and expire_time is not null;

-- Every state change, with its actor and time (append-only).
create table customer_authorization_event (
    id               bigserial primary key,
    authorization_id text not null references customer_authorization (id),
    event_type       text not null constraint customer_authorization_event_type_check
                         check (event_type in ('requested', 'approved', 'rejected', 'revoked', 'expired')),
    from_status      text,
    to_status        text not null,
    actor_id         text not null,
    -- `partner` | `customer` | `system`.
    actor_kind       text not null,
    reason           text,
    at               timestamptz not null
);
create index customer_authorization_event_idx
    on customer_authorization_event (authorization_id, id);

-- Every request made with an assume-role token: the partner is the actor.
create table assumed_role_request (
    id               bigserial primary key,
    authorization_id text not null references customer_authorization (id),
    partner_id       text not null,
    customer_id      text not null,
    method           text not null,
    path             text not null,
    -- HTTP status of the answer; null while the request runs (or if the server died in it).
    status           smallint,
    at               timestamptz not null
);
create index assumed_role_request_authorization_idx
    on assumed_role_request (authorization_id, at desc, id desc);
