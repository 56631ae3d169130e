-- Catalogue administration and price inquiries (issue 8, scope 1). Only additions to 0011.

-- A price inquiry names a product by service type, resource type, spec and region (a product
-- without a region serves every region): at most one product answers each such tuple.
create unique index product_rating_key on product
    (cloud_service_type, resource_type_code, resource_spec, (coalesce(region_code, '')))
    where resource_type_code is not null and resource_spec is not null;

-- `list_conversions?measure_type=`.
create index measure_conversion_type_idx on measure_conversion (measure_type, measure_id, ref_measure_id);

-- A unit's conversions are looked up from both ends (the rating graph walk loads them all; the
-- admin checks look up by ref).
create index measure_conversion_ref_idx on measure_conversion (ref_measure_id);

-- `list_usage_types` and the admin list without a filter page by code (the primary key); by
-- resource type through usage_type_resource_idx (0011). Prices by usage type (admin checks that a
-- usage type's unit change keeps its prices convertible).
create index on_demand_price_usage_type_idx on on_demand_price (usage_type);
