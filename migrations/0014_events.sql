-- Events: a durable event log written in the same transaction as the change it tells (an outbox),
-- read as a cursor feed and pushed to partners' webhook endpoints.

create table event (
    seq          bigint generated always as identity primary key,
    event_id     text not null constraint event_event_id_key unique,
    type         text not null,
    -- The partner the event is about (a reseller's events also reach its distributor: event_feed).
    partner_id   text not null,
    customer_id  text,
    occurred_at  timestamptz not null,
    data         jsonb not null
);
create index event_occurred_at_idx on event (occurred_at);

-- One row per receiver. The feed position is (xid, seq): xid is the writing transaction's id.
-- A reader returns only rows whose xid is below its snapshot's xmin, i.e. of transactions that
-- have all finished, so no row can later commit behind a cursor (gap-free paging).
create table event_feed (
    receiver_id  text not null,
    xid          xid8 not null,
    seq          bigint not null references event (seq) on delete cascade,
    type         text not null,
    customer_id  text,
    occurred_at  timestamptz not null,
    constraint event_feed_pkey primary key (receiver_id, xid, seq)
);
create index event_feed_type_idx on event_feed (receiver_id, type, xid, seq);
create index event_feed_seq_idx on event_feed (seq);

create table webhook_endpoint (
    id                 text primary key,
    partner_id         text not null references partner (account_id),
    url                text not null,
    description        text not null default '',
    -- null: every event type.
    types              text[],
    enabled            boolean not null default true,
    -- The signing secret (whsec_…), encrypted like access keys' secrets.
    secret_nonce       bytea not null,
    secret_ciphertext  bytea not null,
    -- The first failed attempt since the last success; 5 days of failures disable the endpoint.
    failing_since      timestamptz,
    disabled_reason    text,
    created_at         timestamptz not null,
    updated_at         timestamptz not null
);
create index webhook_endpoint_partner_idx on webhook_endpoint (partner_id, created_at, id);

create table webhook_delivery (
    id               bigint generated always as identity primary key,
    endpoint_id      text not null references webhook_endpoint (id) on delete cascade,
    seq              bigint not null references event (seq) on delete cascade,
    status           text not null default 'pending'
                     constraint webhook_delivery_status_check check (status in ('pending', 'succeeded', 'failed')),
    attempts         integer not null default 0,
    -- Due time of the next attempt (pending only); while an attempt is in flight, its lease.
    next_attempt_at  timestamptz,
    created_at       timestamptz not null,
    finished_at      timestamptz
);
create index webhook_delivery_due_idx on webhook_delivery (next_attempt_at) where status = 'pending';
create index webhook_delivery_pending_idx on webhook_delivery (created_at) where status = 'pending';
create index webhook_delivery_endpoint_idx on webhook_delivery (endpoint_id);
create index webhook_delivery_seq_idx on webhook_delivery (seq);

create table webhook_attempt (
    id               bigint generated always as identity primary key,
    delivery_id      bigint not null references webhook_delivery (id) on delete cascade,
    endpoint_id      text not null,
    event_id         text not null,
    attempt          integer not null,
    status           text not null constraint webhook_attempt_status_check check (status in ('succeeded', 'failed')),
    response_code    integer,
    error            text,
    duration_ms      integer not null,
    attempted_at     timestamptz not null,
    -- When the next attempt was scheduled (null: none, the delivery ended).
    next_attempt_at  timestamptz
);
create index webhook_attempt_endpoint_idx on webhook_attempt (endpoint_id, id desc);
create index webhook_attempt_delivery_idx on webhook_attempt (delivery_id);
