-- Combined-transaction orders (合并交易, issue 10): one `POST /v2/orders/customer-orders` with
-- `items[]` (2–10) creates a parent order (`is_combined`, no line items of its own, amounts = the
-- sum of its sub-orders) and one ordinary order per item (`parent_order_id`, `sub_seq` 1..n).
-- Paying or cancelling takes the parent's id; a sub-order's id gets CBC.99000089.

alter table customer_order
    add column parent_order_id text references customer_order (id),
    add column sub_seq smallint,
    add column is_combined boolean not null default false,
    add constraint customer_order_combined_check check (
        (parent_order_id is null) = (sub_seq is null)
        and not (is_combined and parent_order_id is not null));

-- A parent's sub-orders in item order.
create unique index customer_order_sub_idx on customer_order (parent_order_id, sub_seq)
    where parent_order_id is not null;

-- The lists (`list_customer_orders`) and the creation limits read top-level orders only (normal
-- orders and combined parents; a sub-order is shown inside its parent's `sub_order_infos`): the
-- list indexes cover exactly those rows. Every existing row is top-level.
drop index customer_order_customer_idx;
drop index customer_order_customer_paid_idx;
drop index customer_order_partner_idx;
drop index customer_order_partner_paid_idx;
create index customer_order_customer_idx on customer_order (customer_id, create_time desc, id desc)
    where parent_order_id is null;
create index customer_order_customer_paid_idx on customer_order (customer_id, payment_time desc, id desc)
    where payment_time is not null and parent_order_id is null;
create index customer_order_partner_idx on customer_order (partner_id, create_time desc, id desc)
    where partner_id is not null and parent_order_id is null;
create index customer_order_partner_paid_idx on customer_order (partner_id, payment_time desc, id desc)
    where partner_id is not null and payment_time is not null and parent_order_id is null;
