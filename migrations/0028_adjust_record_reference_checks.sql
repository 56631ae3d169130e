-- Issue 13: an adjust record's partner, operator and counterparty are checked once per inserting
-- statement instead of once per row.
--
-- Three foreign keys (`adjust_record.partner_id → partner`, `operator_id → account`,
-- `counterparty_id → account`) each ran a query per new record at the end of its statement,
-- taking a FOR KEY SHARE lock on the partner's and the customers' rows: every coalesced funding
-- batch rewrote those rows' headers (and logged it) once more, 3 of the 9 referential checks of a
-- funding. Measured on the spread funding bench (docs/benchmarks.md, 2026-12-07): PostgreSQL's
-- CPU per funding 0.257 → 0.244–0.248 ms, throughput +4–6 %.
--
-- The same rule, as strong: a statement-level trigger (beside the one that keeps the
-- adjust-record counts, migration 0026) looks every new record's three references up through
-- their primary keys (one statement per inserting statement, index probes, no locks) and refuses
-- the whole statement with SQLSTATE 23503 and the old constraint's name, at the same moment the
-- foreign key did (the end of the inserting statement). What the foreign keys also refused, a
-- referenced partner or account deleted or its key changed, is refused by the guards below.
-- (`trans_id → journal` stays a deferred foreign key: the locking path writes an adjust record
-- before its journal.)
create function adjust_record_references() returns trigger language plpgsql as $$
declare
    bad text;
begin
    -- Lateral look-ups with a limit: always one primary-key probe per reference, whatever the
    -- statistics say of the transition table (no hashed sub-plan over all partners or accounts).
    select case when p.ok is null then 'adjust_record_partner_id_fkey'
                when o.ok is null then 'adjust_record_operator_id_fkey'
                else 'adjust_record_counterparty_id_fkey' end
      into bad
      from new_rows r
      left join lateral (select 1 as ok from partner x
                          where x.account_id = r.partner_id limit 1) p on true
      left join lateral (select 1 as ok from account x
                          where x.id = r.operator_id limit 1) o on true
      left join lateral (select 1 as ok from account x
                          where x.id = r.counterparty_id limit 1) c on true
     where p.ok is null or o.ok is null or c.ok is null
     limit 1;
    if bad is not null then
        raise exception 'adjust_record: % refused: a new record names a partner or account that does not exist', bad
            using errcode = 'foreign_key_violation', constraint = bad;
    end if;
    return null;
end $$;

create trigger adjust_record_references after insert on adjust_record
    referencing new table as new_rows for each statement
    execute function adjust_record_references();

alter table adjust_record
    drop constraint adjust_record_partner_id_fkey,
    drop constraint adjust_record_operator_id_fkey,
    drop constraint adjust_record_counterparty_id_fkey;

-- A partner or account that an adjust record names can be neither deleted nor given another key
-- (as the foreign keys refused; before the row changes, with the same SQLSTATE and names).
create function adjust_record_reference_guard() returns trigger language plpgsql as $$
declare
    bad text;
begin
    if tg_table_name = 'partner' then
        if exists (select 1 from adjust_record where partner_id = old.account_id) then
            bad := 'adjust_record_partner_id_fkey';
        end if;
    elsif exists (select 1 from adjust_record where counterparty_id = old.id) then
        bad := 'adjust_record_counterparty_id_fkey';
    elsif exists (select 1 from adjust_record where operator_id = old.id) then
        bad := 'adjust_record_operator_id_fkey';
    end if;
    if bad is not null then
        raise exception 'adjust_record: % refused: % of %s is still named by adjust records', bad, tg_op, tg_table_name
            using errcode = 'foreign_key_violation', constraint = bad;
    end if;
    if tg_op = 'DELETE' then
        return old;
    end if;
    return new;
end $$;

create trigger partner_adjust_record_delete before delete on partner
    for each row execute function adjust_record_reference_guard();
create trigger partner_adjust_record_rekey before update of account_id on partner
    for each row when (old.account_id is distinct from new.account_id)
    execute function adjust_record_reference_guard();
create trigger account_adjust_record_delete before delete on account
    for each row execute function adjust_record_reference_guard();
create trigger account_adjust_record_rekey before update of id on account
    for each row when (old.id is distinct from new.id)
    execute function adjust_record_reference_guard();
