-- Issue 13: every list and record endpoint answers from an index as data grows.

-- Substring search on sub-customers' names, real names and labels (`like '%x%'`).
create extension if not exists pg_trgm;
create index account_login_name_trgm on account using gin (login_name gin_trgm_ops);
create index customer_real_name_trgm on customer using gin (real_name gin_trgm_ops);
create index customer_label_trgm on customer using gin (label gin_trgm_ops);

-- Adjust records of one counterparty of a partner, newest first.
create index adjust_record_counterparty_idx
    on adjust_record (partner_id, counterparty_id, created_at desc, trans_id desc);

-- Account-change records: the postings of one ledger account in a time window.
create index posting_account_created_idx on posting (account_id, created_at, id);

-- Exact totals of the unfiltered lists without counting: per partner, its customers and its
-- adjust records, maintained by statement-level triggers (one counter update per statement;
-- a coalesced funding batch's records arrive in one insert).
create table partner_list_count (
    partner_id      text primary key,
    customers       bigint not null default 0,
    adjust_records  bigint not null default 0
);

insert into partner_list_count (partner_id, customers)
select partner_id, count(*) from customer where partner_id is not null group by partner_id;
insert into partner_list_count (partner_id, adjust_records)
select partner_id, count(*) from adjust_record group by partner_id
on conflict (partner_id) do update set adjust_records = excluded.adjust_records;

create function partner_list_count_add(kind text, deltas jsonb) returns void language plpgsql as $$
begin
    -- deltas: [{"p": partner_id, "n": delta}], applied in partner order (one lock order).
    if kind = 'customers' then
        insert into partner_list_count as c (partner_id, customers)
        select d.p, d.n from jsonb_to_recordset(deltas) as d(p text, n bigint)
        where d.n <> 0 order by d.p
        on conflict (partner_id) do update set customers = c.customers + excluded.customers;
    else
        insert into partner_list_count as c (partner_id, adjust_records)
        select d.p, d.n from jsonb_to_recordset(deltas) as d(p text, n bigint)
        where d.n <> 0 order by d.p
        on conflict (partner_id) do update
            set adjust_records = c.adjust_records + excluded.adjust_records;
    end if;
end $$;

create function customer_count_insert() returns trigger language plpgsql as $$
begin
    perform partner_list_count_add('customers', coalesce((
        select jsonb_agg(jsonb_build_object('p', partner_id, 'n', n))
        from (select partner_id, count(*) as n from new_rows where partner_id is not null
              group by partner_id) s), '[]'));
    return null;
end $$;

create function customer_count_delete() returns trigger language plpgsql as $$
begin
    perform partner_list_count_add('customers', coalesce((
        select jsonb_agg(jsonb_build_object('p', partner_id, 'n', -n))
        from (select partner_id, count(*) as n from old_rows where partner_id is not null
              group by partner_id) s), '[]'));
    return null;
end $$;

create function customer_count_update() returns trigger language plpgsql as $$
begin
    perform partner_list_count_add('customers', coalesce((
        select jsonb_agg(jsonb_build_object('p', p, 'n', n))
        from (select p, sum(n) as n from (
                  select o.partner_id as p, -1 as n from old_rows o join new_rows w using (account_id)
                   where o.partner_id is distinct from w.partner_id and o.partner_id is not null
                  union all
                  select w.partner_id, 1 from old_rows o join new_rows w using (account_id)
                   where o.partner_id is distinct from w.partner_id and w.partner_id is not null
              ) d group by p) s), '[]'));
    return null;
end $$;

create trigger customer_count_insert after insert on customer
    referencing new table as new_rows for each statement execute function customer_count_insert();
create trigger customer_count_delete after delete on customer
    referencing old table as old_rows for each statement execute function customer_count_delete();
create trigger customer_count_update after update on customer
    referencing old table as old_rows new table as new_rows
    for each statement execute function customer_count_update();

create function adjust_record_count_insert() returns trigger language plpgsql as $$
begin
    perform partner_list_count_add('adjust_records', coalesce((
        select jsonb_agg(jsonb_build_object('p', partner_id, 'n', n))
        from (select partner_id, count(*) as n from new_rows group by partner_id) s), '[]'));
    return null;
end $$;

create trigger adjust_record_count_insert after insert on adjust_record
    referencing new table as new_rows for each statement
    execute function adjust_record_count_insert();
