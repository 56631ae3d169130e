-- Issue 13: a coalesced funding batch reaches PostgreSQL in two round trips (a read, then one
-- statement that checks and writes everything), and the journal check runs once per journal.

-- 1. The deferred journal check ran once for the journal and once for each of its postings (four
-- identical checks for a three-posting journal). A posting of a journal inserted by this very
-- transaction (top level) needs no check of its own: that journal's check runs at the same
-- commit, after every posting is in place, and reads all of them. A posting added to a journal of
-- another transaction (or of a subtransaction) is still checked itself.
create or replace function ledger_posting_balanced() returns trigger language plpgsql as $$
begin
    if exists (select 1 from journal j
                where j.id = new.journal_id and j.xmin = pg_current_xact_id()::xid) then
        return null;
    end if;
    perform ledger_check_journal(new.journal_id);
    return null;
end $$;

-- 2. Events, their feed rows and pending deliveries from one JSON array
-- ([{event_id, type, partner_id, customer_id, occurred_at, data}]): the one writer of events,
-- called by db::events::insert_events and by funding_apply. PL/pgSQL, not SQL: PostgreSQL 15
-- plans a SQL function's body again on every call, PL/pgSQL keeps the plan per connection.
create function event_insert_many(events jsonb) returns void language plpgsql as $$
begin
    with input as (
        select * from rows from (jsonb_to_recordset(events)
            as (event_id text, type text, partner_id text, customer_id text,
                occurred_at timestamptz, data jsonb))
            with ordinality as t(event_id, type, partner_id, customer_id, occurred_at, data, n)
    ), ev as (
        insert into event (event_id, type, partner_id, customer_id, occurred_at, data)
        select event_id, type, partner_id, customer_id, occurred_at, data from input order by n
        returning seq, type, partner_id, customer_id, occurred_at
    ), receivers as (
        select ev.seq, ev.partner_id as receiver_id from ev
        union all
        select ev.seq, p.distributor_id from ev join partner p on p.account_id = ev.partner_id
         where p.distributor_id is not null
    ), feed as (
        insert into event_feed (receiver_id, xid, seq, type, customer_id, occurred_at)
        select r.receiver_id, pg_current_xact_id(), ev.seq, ev.type, ev.customer_id, ev.occurred_at
          from receivers r join ev on ev.seq = r.seq
    )
    insert into webhook_delivery (endpoint_id, seq, next_attempt_at, created_at)
    select w.id, ev.seq, ev.occurred_at, ev.occurred_at
      from receivers r
      join ev on ev.seq = r.seq
      join webhook_endpoint w on w.partner_id = r.receiver_id and w.enabled
                             and (w.types is null or ev.type = any (w.types));
end $$;

-- 3. A planned funding batch in one statement (called by src/ledger only). The plan was made in
-- the server from rows read without locks; here, under the locks, the rows it relied on must be
-- unchanged, else nothing is written (SQLSTATE PC001) and the server redoes the batch on its
-- locking path. `doc`:
--   keys      [{c, k}]       Idempotency-Keys of the batch: transaction-scoped advisory locks
--   cutoff    timestamptz    outcomes older than this are forgotten before the new ones are stored
--   customers [{id, partner_id, association_type, is_frozen}]  as the rules saw them (locked FOR SHARE)
--   accounts  [{id, balance, floor, credit_limit}]             as the plan started (locked FOR UPDATE)
--   journals  [{n, trans_id, kind, created_at}]
--   legs      [{journal_n, account_id, amount, balance_after}] in plan order
--   adjust    adjust records; events: as event_insert_many; outcomes: idempotency outcomes
create function funding_apply(doc jsonb) returns void language plpgsql as $$
declare
    ok boolean;
begin
    if exists (select 1 from jsonb_to_recordset(doc->'keys') as k(c text, k text)
                where not pg_try_advisory_xact_lock(hashtextextended(k.c || chr(10) || k.k, 0))) then
        raise exception 'funding_apply: an Idempotency-Key is in use' using errcode = 'PC001';
    end if;
    perform 1 from customer c
     where c.account_id in (select x.id from jsonb_to_recordset(doc->'customers') as x(id text))
     order by c.account_id for share;
    if exists (select 1 from jsonb_to_recordset(doc->'customers')
                          as x(id text, partner_id text, association_type text, is_frozen smallint)
                 left join customer c on c.account_id = x.id
                where c.account_id is null or c.partner_id is distinct from x.partner_id
                   or c.association_type is distinct from x.association_type
                   or c.is_frozen is distinct from x.is_frozen) then
        raise exception 'funding_apply: a customer changed' using errcode = 'PC001';
    end if;
    perform 1 from ledger_account a
     where a.id in (select x.id from jsonb_to_recordset(doc->'accounts') as x(id bigint))
     order by a.id for update;
    if exists (select 1 from jsonb_to_recordset(doc->'accounts')
                          as x(id bigint, balance bigint, floor bigint, credit_limit bigint)
                 left join ledger_account a on a.id = x.id
                where a.id is null or a.balance <> x.balance or a.floor is distinct from x.floor
                   or a.credit_limit <> x.credit_limit) then
        raise exception 'funding_apply: an account changed' using errcode = 'PC001';
    end if;
    -- Journals, postings (plan order, planned running balances) and each account's total change.
    with e as (
        select * from jsonb_to_recordset(doc->'journals')
            as e(n bigint, trans_id text, kind text, created_at timestamptz)
    ), j as (
        insert into journal (trans_id, kind, created_at)
        select trans_id, kind, created_at from e order by n
        returning id, trans_id
    ), l as (
        select * from rows from (jsonb_to_recordset(doc->'legs')
            as (journal_n bigint, account_id bigint, amount bigint, balance_after bigint))
            with ordinality as l(journal_n, account_id, amount, balance_after, n)
    ), u as (
        update ledger_account a set balance = a.balance + s.total
          from (select account_id, sum(amount)::bigint as total from l group by account_id) s
         where a.id = s.account_id
        returning a.id, a.asset, a.balance
    ), p as (
        insert into posting (journal_id, account_id, asset, amount, balance_after, created_at)
        select j.id, l.account_id, u.asset, l.amount, l.balance_after, e.created_at
          from l join e on e.n = l.journal_n
                 join j on j.trans_id = e.trans_id
                 join u on u.id = l.account_id
         order by l.n
        returning account_id, balance_after
    )
    -- Each account ends with its last planned running balance, and every leg was written.
    select not exists (
               select 1 from u
                 join lateral (select l.balance_after from l where l.account_id = u.id
                                order by l.n desc limit 1) last on true
                where last.balance_after <> u.balance)
           and (select count(*) from p) = jsonb_array_length(doc->'legs')
      into ok;
    if not ok then
        raise exception 'funding_apply: the written balances differ from the planned ones'
            using errcode = 'PC002';
    end if;
    insert into adjust_record (trans_id, partner_id, operator_id, counterparty_id,
                               counterparty_kind, operation_type, amount, created_at)
    select * from jsonb_to_recordset(doc->'adjust')
        as r(trans_id text, partner_id text, operator_id text, counterparty_id text,
             counterparty_kind text, operation_type text, amount_fen bigint, created_at timestamptz);
    perform event_insert_many(doc->'events');
    delete from idempotency_key i
     using jsonb_to_recordset(doc->'keys') as k(c text, k text)
     where i.caller_id = k.c and i.key = k.k and i.created_at < (doc->>'cutoff')::timestamptz;
    insert into idempotency_key (caller_id, key, request_hash, status, body, created_at)
    select * from jsonb_to_recordset(doc->'outcomes')
        as o(caller_id text, key text, request_hash text, status smallint, body text,
             created_at timestamptz);
end $$;

-- 4. The incremental ledger audit's checkpoint (ledger/audit/incremental.rs): every posting up to
-- `posting_id` and every journal up to `journal_id` was audited, and each account's postings up
-- to there sum to `ledger_audit_account.sum`; a later run reads only what came after.
create table ledger_audit_checkpoint (
    id          boolean primary key default true constraint ledger_audit_checkpoint_one check (id),
    posting_id  bigint not null,
    journal_id  bigint not null,
    journals    bigint not null,
    postings    bigint not null,
    audited_at  timestamptz not null
);
create table ledger_audit_account (
    account_id  bigint primary key references ledger_account (id),
    sum         bigint not null
);

-- 5. Exact totals of account-change records without counting postings: per ledger account and
-- UTC+8 day (the windows of the account-change lists are whole UTC+8 days), the postings in and
-- out, maintained by a statement-level trigger (the ledger writes a batch's postings in one
-- statement: one upsert per account and day per statement).
create table posting_day_count (
    account_id  bigint not null,
    day         date not null,
    n_in        bigint not null default 0,
    n_out       bigint not null default 0,
    primary key (account_id, day)
);

create function posting_day_of(at timestamptz) returns date language sql immutable as $$
    select ((at at time zone 'UTC') + interval '8 hours')::date
$$;

insert into posting_day_count (account_id, day, n_in, n_out)
select account_id, posting_day_of(created_at), count(*) filter (where amount > 0),
       count(*) filter (where amount < 0)
  from posting group by 1, 2;

create function posting_day_count_insert() returns trigger language plpgsql as $$
begin
    insert into posting_day_count as c (account_id, day, n_in, n_out)
    select account_id, posting_day_of(created_at), count(*) filter (where amount > 0),
           count(*) filter (where amount < 0)
      from new_rows group by 1, 2 order by 1, 2
    on conflict (account_id, day) do update
        set n_in = c.n_in + excluded.n_in, n_out = c.n_out + excluded.n_out;
    return null;
end $$;

create trigger posting_day_count_insert after insert on posting
    referencing new table as new_rows for each statement
    execute function posting_day_count_insert();
