-- Capacity per (product, region) and a product's tax rate (issue 10, orders): `pay_orders` refuses
-- an order whose copies exceed the capacity left (CBC.99003141) or whose product has no tax rate
-- (CBC.99006093). Only additions.

-- The vendor's capacity of a product in a region, in copies (`subscription_num`) of live
-- resources (status <> 3). No row: unlimited. Payments lock the row, so two concurrent payments
-- cannot both take the last copies.
create table product_capacity (
    product_id   text not null references product (id),
    region_code  text not null,
    capacity     bigint not null constraint product_capacity_capacity_check check (capacity >= 0),
    updated_at   timestamptz not null,
    constraint product_capacity_pkey primary key (product_id, region_code)
);

-- The copies in use of a product in a region (the capacity check sums them).
create index order_resource_product_region_idx on order_resource (product_id, region_code)
    where status <> 3;

-- A product's tax rate (0.06 = 6 %); null: none (the product cannot be ordered or paid).
-- Existing products, and rows inserted without naming the column, get the usual 6 % VAT of cloud
-- services; the admin API defaults to it too and may set it to null explicitly.
alter table product add column tax_rate numeric(5, 4) default 0.06
    constraint product_tax_rate_check check (tax_rate >= 0 and tax_rate < 1);
