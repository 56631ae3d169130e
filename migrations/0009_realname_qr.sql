-- Single-use face-verification QR codes of the customer's own real-name flow (10-customers.md §11):
-- invalid once scanned or 10 minutes after issue.
create table realname_qr_code (
    token        text primary key,
    customer_id  text not null references customer (account_id),
    created_at   timestamptz not null,
    expires_at   timestamptz not null,
    scanned_at   timestamptz
);
create index realname_qr_code_customer_idx on realname_qr_code (customer_id, created_at desc);
