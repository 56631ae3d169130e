-- Foundation: accounts (partners and customers), credentials, verification codes.
-- Times are written by the application clock so tests can move time.

create table account (
    id             text primary key constraint account_id_format check (id ~ '^[0-9a-f]{32}$'),
    kind           text not null constraint account_kind_check check (kind in ('partner', 'customer')),
    login_name     text not null,
    password_hash  text,
    mobile_phone   text,
    email          text,
    status         text not null default 'active' constraint account_status_check check (status in ('active', 'disabled')),
    created_at     timestamptz not null
);
create unique index account_login_name_key on account (lower(login_name));
create index account_mobile_phone_idx on account (mobile_phone) where mobile_phone is not null and mobile_phone <> '';
create index account_email_idx on account (lower(email)) where email is not null;

create table partner (
    account_id      text primary key references account (id),
    name            text not null,
    partner_type    text not null constraint partner_type_check check (partner_type in ('solution_provider', 'distributor', 'reseller')),
    distributor_id  text references partner (account_id),
    xaccount_type   text not null constraint partner_xaccount_type_key unique,
    restricted      boolean not null default false,
    sandbox         boolean not null default false,
    exited          boolean not null default false,
    account_manager_id   text,
    account_manager_name text,
    associated_on   timestamptz not null,
    constraint partner_reseller_has_distributor check ((partner_type = 'reseller') = (distributor_id is not null))
);
create index partner_distributor_idx on partner (distributor_id, associated_on desc, account_id desc) where distributor_id is not null;

create table customer (
    account_id        text primary key references account (id),
    partner_id        text references partner (account_id),
    association_type  text constraint customer_association_type_check check (association_type in ('1', '2')),
    associated_on     timestamptz,
    xaccount_type     text not null,
    xaccount_id       text not null,
    real_name         text,
    label             text,
    country_code      text,
    customer_type     smallint not null default -1 constraint customer_type_check check (customer_type in (-1, 0, 1)),
    verified_status   text not null default '-1' constraint customer_verified_status_check check (verified_status in ('-1', '0', '1', '2')),
    customer_level    text,
    is_frozen         smallint not null default 0 constraint customer_is_frozen_check check (is_frozen in (0, 1, 2)),
    is_close_market_ms boolean not null default false,
    account_manager   text,
    constraint customer_xaccount_key unique (xaccount_type, xaccount_id),
    constraint customer_association_complete check ((partner_id is null) = (association_type is null) and (partner_id is null) = (associated_on is null))
);
create index customer_partner_idx on customer (partner_id, associated_on desc, account_id desc);

create table access_key (
    access_key         text primary key,
    account_id         text not null references account (id),
    secret_nonce       bytea not null,
    secret_ciphertext  bytea not null,
    status             text not null default 'active' constraint access_key_status_check check (status in ('active', 'disabled')),
    created_at         timestamptz not null
);
create index access_key_account_idx on access_key (account_id);

create table verification_code (
    id              bigint generated always as identity primary key,
    mobile_phone    text not null,
    scene           integer not null,
    customer_id     text,
    code            text not null,
    lang            text not null,
    requested_by    text not null references account (id),
    created_at      timestamptz not null,
    expires_at      timestamptz not null,
    failed_attempts integer not null default 0,
    consumed_at     timestamptz
);
create index verification_code_mobile_idx on verification_code (mobile_phone, created_at desc);

-- Mobile numbers reported ("报备") to the vendor by a partner: nobody else may register them.
create table registration_report (
    mobile_phone  text primary key,
    partner_id    text not null references partner (account_id),
    created_at    timestamptz not null
);
