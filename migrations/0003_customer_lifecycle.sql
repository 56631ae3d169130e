-- Customer relationship life: association events, real-name applications, freezes.

-- Every associate / switch / un-association step, with actor, reason and outcome.
create table association_event (
    id           bigint generated always as identity primary key,
    customer_id  text not null references account (id),
    partner_id   text not null references partner (account_id),
    event_type   text not null constraint association_event_type_check check (event_type in (
                     'associate', 'switch_type', 'switch_request', 'unassociate_request',
                     'unassociate', 'request_rejected', 'request_expired', 'freeze', 'unfreeze')),
    actor_id     text not null,
    actor_kind   text not null constraint association_event_actor_check check (actor_kind in ('partner', 'customer', 'vendor', 'system')),
    reason       text,
    outcome      text not null,
    from_type    text,
    to_type      text,
    request_id   bigint,
    created_at   timestamptz not null
);
create index association_event_partner_idx on association_event (partner_id, created_at desc, id desc);
create index association_event_customer_idx on association_event (customer_id, created_at desc, id desc);

-- Real-name applications submitted by a partner for its customer, reviewed by the vendor.
create table realname_application (
    id              bigint generated always as identity primary key,
    customer_id     text not null references customer (account_id),
    partner_id      text not null references partner (account_id),
    kind            text not null constraint realname_kind_check check (kind in ('individual', 'enterprise', 'change_to_enterprise')),
    identify_type   integer not null,
    name            text not null,
    verified_number text not null,
    details         jsonb not null,
    status          text not null default 'reviewing' constraint realname_status_check check (status in ('reviewing', 'approved', 'rejected')),
    opinion         text,
    submitted_at    timestamptz not null,
    reviewed_at     timestamptz
);
create index realname_application_customer_idx on realname_application (customer_id, submitted_at desc, id desc);
create unique index realname_application_one_pending on realname_application (customer_id) where status = 'reviewing';

alter table customer add column verified_at timestamptz;
alter table customer add column registered_here boolean not null default true;
