-- A partner's own organisation: operator accounts with roles of permission items, and customer
-- managers (with supervisors) to whom customers are assigned.

alter table account drop constraint account_kind_check;
alter table account add constraint account_kind_check check (kind in ('partner', 'customer', 'operator'));

create table partner_role (
    id           bigint generated always as identity primary key,
    partner_id   text not null references partner (account_id),
    name         text not null,
    permissions  text[] not null,
    created_at   timestamptz not null,
    constraint partner_role_name_key unique (partner_id, name)
);

create table operator (
    account_id     text primary key references account (id),
    partner_id     text not null references partner (account_id),
    display_name   text not null,
    role_id        bigint references partner_role (id),
    -- 'staff' sees every customer its role allows; 'manager' only its assigned customers;
    -- 'supervisor' the customers of the managers it supervises (and never funds).
    scope          text not null default 'staff' constraint operator_scope_check check (scope in ('staff', 'manager', 'supervisor')),
    supervisor_id  text references operator (account_id),
    created_at     timestamptz not null
);
create index operator_partner_idx on operator (partner_id, created_at, account_id);
create index operator_supervisor_idx on operator (supervisor_id) where supervisor_id is not null;

alter table customer add column manager_id text references operator (account_id);
create index customer_manager_idx on customer (manager_id) where manager_id is not null;

-- Assignment history: one row per assignment, closed when the customer moves on.
create table customer_assignment (
    id            bigint generated always as identity primary key,
    customer_id   text not null references customer (account_id),
    partner_id    text not null references partner (account_id),
    manager_id    text references operator (account_id),
    assigned_by   text not null,
    assigned_at   timestamptz not null,
    ended_at      timestamptz
);
create index customer_assignment_customer_idx on customer_assignment (customer_id, assigned_at desc, id desc);
