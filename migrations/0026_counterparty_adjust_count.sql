-- Issue 13: the exact total of one counterparty's adjust records without counting them.
--
-- `GET /v3/accounts/partner-accounts/adjust-records?customer_id=…` used to count that
-- customer's records through `adjust_record_counterparty_idx` (1,000 records: 0.55 ms, the
-- largest part of the request at 1M journals). The statement-level trigger that keeps the
-- per-partner total (migration 0019) now keeps one per (partner, counterparty) too: one upsert
-- per inserting statement, rows in key order (one lock order for concurrent batches).
create table counterparty_adjust_count (
    partner_id       text   not null,
    counterparty_id  text   not null,
    adjust_records   bigint not null check (adjust_records >= 0),
    primary key (partner_id, counterparty_id)
);

insert into counterparty_adjust_count (partner_id, counterparty_id, adjust_records)
select partner_id, counterparty_id, count(*) from adjust_record group by 1, 2;

-- Both totals from the transition table with plain SQL (the per-partner one no longer goes
-- through partner_list_count_add's JSON: built and parsed again on every funding batch).
create or replace function adjust_record_count_insert() returns trigger language plpgsql as $$
begin
    insert into partner_list_count as c (partner_id, adjust_records)
    select partner_id, count(*) from new_rows group by 1 order by 1
    on conflict (partner_id) do update set adjust_records = c.adjust_records + excluded.adjust_records;
    insert into counterparty_adjust_count as c (partner_id, counterparty_id, adjust_records)
    select partner_id, counterparty_id, count(*) from new_rows group by 1, 2 order by 1, 2
    on conflict (partner_id, counterparty_id) do update
        set adjust_records = c.adjust_records + excluded.adjust_records;
    return null;
end $$;

-- partner_list_count_add now serves the customer counts only (its adjust-record branch had no
-- caller left).
create or replace function partner_list_count_add(kind text, deltas jsonb) returns void
language plpgsql as $$
begin
    -- deltas: [{"p": partner_id, "n": delta}], applied in partner order (one lock order).
    if kind <> 'customers' then
        raise exception 'partner_list_count_add: unknown count %', kind;
    end if;
    insert into partner_list_count as c (partner_id, customers)
    select d.p, d.n from jsonb_to_recordset(deltas) as d(p text, n bigint)
    where d.n <> 0 order by d.p
    on conflict (partner_id) do update set customers = c.customers + excluded.customers;
end $$;

-- Inserts are the only change the counters follow: adjust records are append-only, like the
-- journals they describe, and the database now refuses anything else.
create trigger adjust_record_append_only before update or delete on adjust_record
    for each row execute function ledger_append_only();
create trigger adjust_record_no_truncate before truncate on adjust_record
    for each statement execute function ledger_append_only();
