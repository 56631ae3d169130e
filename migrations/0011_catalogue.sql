-- The vendor's catalogue and prices (50-other.md §D): service types, resource types, usage types,
-- measure units and their conversions, products with on-demand and yearly/monthly prices.
-- Names are kept in Chinese (`name_zh`, the default `X-Language: zh_cn`) and English (`name_en`;
-- `cloud_service_type.name` and `product.name` are the English names).

alter table cloud_service_type add column name_zh text;
alter table cloud_service_type add column abbreviation text;
update cloud_service_type set name_zh = v.zh, abbreviation = v.abbr
  from (values
    ('hws.service.type.ec2', '弹性云服务器', 'ECS'),
    ('hws.service.type.ebs', '云硬盘', 'EVS'),
    ('hws.service.type.obs', '对象存储服务', 'OBS'),
    ('hws.service.type.vpc', '虚拟私有云', 'VPC'),
    ('hws.service.type.rds', '云数据库', 'RDS')) as v(code, zh, abbr)
 where cloud_service_type.code = v.code;
update cloud_service_type set name_zh = name where name_zh is null;
update cloud_service_type set abbreviation = upper(split_part(code, '.', 4)) where abbreviation is null;
alter table cloud_service_type alter column name_zh set not null;
alter table cloud_service_type alter column abbreviation set not null;

create table resource_type (
    code               text primary key,
    service_type_code  text not null references cloud_service_type (code),
    name_zh            text not null,
    name_en            text not null,
    description        text not null default ''
);
create index resource_type_service_idx on resource_type (service_type_code, code);

-- measure_type: 1 currency, 2 duration, 3 data size, 4 count, 5 capacity × time (GB·h).
create table measure_unit (
    measure_id    integer primary key,
    name_zh       text not null,
    name_en       text not null,
    abbreviation  text not null,
    measure_type  integer not null
);

-- 1 measure_id = conversion_ratio ref_measure_id (e.g. 1 hour = 60 minutes).
create table measure_conversion (
    measure_id        integer not null references measure_unit (measure_id),
    ref_measure_id    integer not null references measure_unit (measure_id),
    conversion_ratio  bigint not null constraint measure_conversion_ratio_check check (conversion_ratio > 0),
    measure_type      integer not null,
    constraint measure_conversion_pkey primary key (measure_id, ref_measure_id)
);

create table usage_type (
    code                text primary key,
    resource_type_code  text not null references resource_type (code),
    name_zh             text not null,
    name_en             text not null,
    -- The unit usage of this type is measured in by default.
    measure_id          integer not null references measure_unit (measure_id)
);
create index usage_type_resource_idx on usage_type (resource_type_code, code);

alter table product add column resource_type_code text references resource_type (code);
alter table product add column region_code text;
alter table product add column resource_spec text;

-- Pay-per-use prices: yuan per one `usage_measure_id` of `usage_type`, up to 8 decimals.
create table on_demand_price (
    product_id        text not null references product (id),
    usage_type        text not null references usage_type (code),
    usage_measure_id  integer not null references measure_unit (measure_id),
    unit_price        numeric(20, 8) not null constraint on_demand_price_unit_price_check check (unit_price >= 0),
    constraint on_demand_price_pkey primary key (product_id, usage_type)
);

-- Yearly/monthly prices: period_type 2 = month, 3 = year; yuan per period, 2 decimals.
create table period_price (
    product_id   text not null references product (id),
    period_type  smallint not null constraint period_price_period_type_check check (period_type in (2, 3)),
    price        numeric(20, 2) not null constraint period_price_price_check check (price >= 0),
    constraint period_price_pkey primary key (product_id, period_type)
);

insert into measure_unit (measure_id, name_zh, name_en, abbreviation, measure_type) values
    (1, '元', 'yuan', 'CNY', 1),
    (2, '角', 'jiao', 'jiao', 1),
    (3, '分', 'fen', 'fen', 1),
    (4, '小时', 'hour', 'h', 2),
    (5, '天', 'day', 'd', 2),
    (6, '分钟', 'minute', 'min', 2),
    (7, '秒', 'second', 's', 2),
    (10, 'GB', 'GB', 'GB', 3),
    (11, 'MB', 'MB', 'MB', 3),
    (12, 'KB', 'KB', 'KB', 3),
    (13, 'Byte', 'byte', 'B', 3),
    (14, 'TB', 'TB', 'TB', 3),
    (15, '次', 'request', 'req', 4),
    (16, '万次', '10,000 requests', '10k req', 4),
    (17, 'GB·小时', 'GB-hour', 'GB*h', 5),
    (18, 'MB·小时', 'MB-hour', 'MB*h', 5);

insert into measure_conversion (measure_id, ref_measure_id, conversion_ratio, measure_type) values
    (1, 2, 10, 1),
    (2, 3, 10, 1),
    (5, 4, 24, 2),
    (4, 6, 60, 2),
    (6, 7, 60, 2),
    (14, 10, 1024, 3),
    (10, 11, 1024, 3),
    (11, 12, 1024, 3),
    (12, 13, 1024, 3),
    (16, 15, 10000, 4),
    (17, 18, 1024, 5);

insert into resource_type (code, service_type_code, name_zh, name_en, description) values
    ('hws.resource.type.vm', 'hws.service.type.ec2', '云主机', 'Cloud server', 'ECS instance'),
    ('hws.resource.type.volume', 'hws.service.type.ebs', '云硬盘', 'Disk', 'EVS volume'),
    ('hws.resource.type.obs', 'hws.service.type.obs', '对象存储', 'Object storage', 'OBS bucket storage'),
    ('hws.resource.type.obs.traffic', 'hws.service.type.obs', '对象存储流量', 'Object storage traffic', 'OBS downstream traffic'),
    ('hws.resource.type.obs.request', 'hws.service.type.obs', '对象存储请求', 'Object storage requests', 'OBS requests'),
    ('hws.resource.type.ip', 'hws.service.type.vpc', '弹性公网IP', 'Elastic IP', 'VPC elastic IP'),
    ('hws.resource.type.bandwidth', 'hws.service.type.vpc', '带宽', 'Bandwidth', 'VPC bandwidth'),
    ('hws.resource.type.rds.vm', 'hws.service.type.rds', '数据库实例', 'DB instance', 'RDS instance'),
    ('hws.resource.type.rds.volume', 'hws.service.type.rds', '数据库存储', 'DB storage', 'RDS storage');

insert into usage_type (code, resource_type_code, name_zh, name_en, measure_id) values
    ('duration', 'hws.resource.type.vm', '时长', 'Duration', 4),
    ('capacity', 'hws.resource.type.volume', '容量', 'Capacity', 17),
    ('obs_storage', 'hws.resource.type.obs', '存储容量', 'Storage capacity', 17),
    ('obs_traffic_out', 'hws.resource.type.obs.traffic', '公网流出流量', 'Internet outbound traffic', 10),
    ('obs_requests', 'hws.resource.type.obs.request', '请求次数', 'Requests', 15),
    ('ip_duration', 'hws.resource.type.ip', '保有时长', 'Holding duration', 4),
    ('bandwidth_traffic', 'hws.resource.type.bandwidth', '流量', 'Traffic', 10),
    ('rds_duration', 'hws.resource.type.rds.vm', '实例时长', 'Instance duration', 4),
    ('rds_capacity', 'hws.resource.type.rds.volume', '存储容量', 'Storage capacity', 17);
