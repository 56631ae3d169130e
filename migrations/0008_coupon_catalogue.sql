-- The product catalogue coupon restrictions name (30-coupons.md: CBC.50000054 / CBC.50000055),
-- the per-issue face-value total of a quota (CBC.99000021), and two vendor-set flags: a partner
-- in "partner coupon usage" mode cannot issue vouchers (CBC.50000010), a financially-custodied
-- enterprise sub-account cannot receive partner coupons (CBC.50000034).

create table cloud_service_type (
    code  text primary key,
    name  text not null
);
insert into cloud_service_type (code, name) values
    ('hws.service.type.ec2', 'Elastic Cloud Server'),
    ('hws.service.type.ebs', 'Elastic Volume Service'),
    ('hws.service.type.obs', 'Object Storage Service'),
    ('hws.service.type.vpc', 'Virtual Private Cloud'),
    ('hws.service.type.rds', 'Relational Database Service');

create table product (
    id                  text primary key,
    cloud_service_type  text not null references cloud_service_type (code),
    name                text not null,
    created_at          timestamptz not null
);

alter table coupon_quota add column max_total_face_value_per_issue bigint
    constraint coupon_quota_max_total_check check (max_total_face_value_per_issue > 0);

alter table partner add column coupon_usage_mode boolean not null default false;
alter table customer add column financially_custodied boolean not null default false;
