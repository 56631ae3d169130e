-- Performance (业绩) and the consumption dashboards (issue 12): daily rollups of the fee records,
-- written in the charge's transaction next to bill_sum (db::performance::add_to_days).
--
-- The day of a fee record is the Beijing date (UTC+8) of its trade (charge) time; its manager is
-- the customer's manager in force at the start of that day (customer_assignment), so a customer
-- assigned on day D counts for its new manager from day D+1. Rows without a partner are skipped.
-- Money: integer fen; performance = cash + card (stored-value card payments count as cash).

-- One row per (partner, day, customer, manager of the day): summaries and details.
create table performance_day (
    partner_id   text not null,
    day          date not null,
    customer_id  text not null,
    manager_id   text,
    payable      bigint not null,
    cash         bigint not null,
    card         bigint not null,
    records      bigint not null,
    constraint performance_day_key unique nulls not distinct (partner_id, day, customer_id, manager_id)
);
create index performance_day_customer_idx on performance_day (partner_id, customer_id, day);
create index performance_day_manager_idx on performance_day (partner_id, manager_id, day);

-- One row per (partner, day, manager of the day, service type): the dashboards, independent of
-- the number of customers.
create table consumption_day (
    partner_id         text not null,
    day                date not null,
    manager_id         text,
    service_type_code  text not null,
    official_amount    numeric(30, 10) not null,
    payable            bigint not null,
    coupon             bigint not null,
    cash_coupon        bigint not null,
    card               bigint not null,
    cash               bigint not null,
    credit             bigint not null,
    debt               bigint not null,
    writeoff           bigint not null,
    records            bigint not null,
    constraint consumption_day_key unique nulls not distinct (partner_id, day, manager_id, service_type_code)
);
create index consumption_day_manager_idx on consumption_day (partner_id, manager_id, day);

-- The same by month (first day), so that ranges of whole months read one row per month, not per
-- day; the current (partial) month is read from consumption_day.
create table consumption_month (like consumption_day);
alter table consumption_month rename column day to month;
alter table consumption_month add constraint consumption_month_key
    unique nulls not distinct (partner_id, month, manager_id, service_type_code);
create index consumption_month_manager_idx on consumption_month (partner_id, manager_id, month);

-- Backfill from the fee records already written.
with f as (
    select r.*, ((r.trade_time at time zone 'UTC') + interval '8 hours')::date as day
    from fee_record r where r.partner_id is not null
), m as (
    select f.*, (select s.manager_id from customer_assignment s
                 where s.customer_id = f.customer_id and s.partner_id = f.partner_id
                   and s.assigned_at < ((f.day::timestamp - interval '8 hours') at time zone 'UTC')
                   and (s.ended_at is null
                        or s.ended_at >= ((f.day::timestamp - interval '8 hours') at time zone 'UTC'))
                 order by s.assigned_at desc, s.id desc limit 1) as day_manager
    from f
), p as (
    insert into performance_day (partner_id, day, customer_id, manager_id, payable, cash, card, records)
    select partner_id, day, customer_id, day_manager, sum(payable), sum(cash), sum(card), count(*)
    from m group by 1, 2, 3, 4
)
insert into consumption_day (partner_id, day, manager_id, service_type_code, official_amount, payable,
    coupon, cash_coupon, card, cash, credit, debt, writeoff, records)
select partner_id, day, day_manager, service_type_code, sum(official_amount), sum(payable), sum(coupon),
       sum(cash_coupon), sum(card), sum(cash), sum(credit), sum(debt), sum(writeoff), count(*)
from m group by 1, 2, 3, 4;

insert into consumption_month (partner_id, month, manager_id, service_type_code, official_amount, payable,
    coupon, cash_coupon, card, cash, credit, debt, writeoff, records)
select partner_id, date_trunc('month', day)::date, manager_id, service_type_code, sum(official_amount),
       sum(payable), sum(coupon), sum(cash_coupon), sum(card), sum(cash), sum(credit), sum(debt),
       sum(writeoff), sum(records)
from consumption_day group by 1, 2, 3, 4;
