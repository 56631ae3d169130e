//! Performance and consumption rollups (migration 0017): `performance_day` (per partner, day,
//! customer, manager of the day) and `consumption_day` (per partner, day, manager of the day,
//! service type), upserted in the charge's transaction, and the reads of the performance and
//! dashboard routes. The rules (day, manager of the day) are in `domain::performance`.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, Postgres, QueryBuilder};

use crate::{
    db::usage::NewFeeRecord,
    domain::performance::{manager_for_day, month_of, record_day, Assignment},
};

/// (customer, partner, manager, assigned at, ended at).
type AssignmentRow = (
    String,
    String,
    Option<String>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

/// Assignment history of the customers (for one partner each), by (customer, partner).
async fn assignments(
    conn: &mut PgConnection,
    customer_ids: &[String],
) -> sqlx::Result<HashMap<(String, String), Vec<Assignment>>> {
    let rows: Vec<AssignmentRow> = sqlx::query_as(
        "select customer_id, partner_id, manager_id, assigned_at, ended_at
             from customer_assignment where customer_id = any($1)",
    )
    .bind(customer_ids)
    .fetch_all(&mut *conn)
    .await?;
    let mut m: HashMap<(String, String), Vec<Assignment>> = HashMap::new();
    for (c, p, manager_id, assigned_at, ended_at) in rows {
        m.entry((c, p)).or_default().push(Assignment {
            manager_id,
            assigned_at,
            ended_at,
        });
    }
    Ok(m)
}

type PerfKey = (String, NaiveDate, String, Option<String>);
type ConsKey = (String, NaiveDate, Option<String>, String);

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ConsDelta {
    pub official_amount: Decimal,
    pub payable: i64,
    pub coupon: i64,
    pub cash_coupon: i64,
    pub card: i64,
    pub cash: i64,
    pub credit: i64,
    pub debt: i64,
    pub writeoff: i64,
    pub records: i64,
}

/// Adds fee records to the daily rollups (records without a partner are not a partner's
/// consumption). Each table is upserted in key order, so concurrent charges lock its rows in one
/// order.
pub async fn add_to_days(conn: &mut PgConnection, rs: &[NewFeeRecord]) -> sqlx::Result<()> {
    let mut customers: Vec<String> = rs
        .iter()
        .filter(|r| r.partner_id.is_some())
        .map(|r| r.customer_id.clone())
        .collect();
    if customers.is_empty() {
        return Ok(());
    }
    customers.sort();
    customers.dedup();
    let history = assignments(conn, &customers).await?;
    let mut perf: BTreeMap<PerfKey, [i64; 4]> = BTreeMap::new();
    let mut cons: BTreeMap<ConsKey, ConsDelta> = BTreeMap::new();
    for r in rs {
        let Some(partner) = &r.partner_id else {
            continue;
        };
        let day = record_day(r.trade_time);
        let manager = history
            .get(&(r.customer_id.clone(), partner.clone()))
            .and_then(|h| manager_for_day(h, day));
        let p = perf
            .entry((partner.clone(), day, r.customer_id.clone(), manager.clone()))
            .or_default();
        p[0] += r.payable;
        p[1] += r.cash;
        p[2] += r.card;
        p[3] += 1;
        let c = cons
            .entry((partner.clone(), day, manager, r.service_type_code.clone()))
            .or_default();
        c.official_amount += r.official_amount;
        c.payable += r.payable;
        c.coupon += r.coupon;
        c.cash_coupon += r.cash_coupon;
        c.card += r.card;
        c.cash += r.cash;
        c.credit += r.credit;
        c.debt += r.debt;
        c.writeoff += r.writeoff;
        c.records += 1;
    }
    let perf: Vec<_> = perf.into_iter().collect();
    for chunk in perf.chunks(5_000) {
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
            "insert into performance_day (partner_id, day, customer_id, manager_id, payable, cash,
                 card, records) ",
        );
        q.push_values(chunk, |mut b, ((p, d, c, m), v)| {
            b.push_bind(p)
                .push_bind(d)
                .push_bind(c)
                .push_bind(m)
                .push_bind(v[0])
                .push_bind(v[1])
                .push_bind(v[2])
                .push_bind(v[3]);
        });
        q.push(
            " on conflict on constraint performance_day_key do update set
                 payable = performance_day.payable + excluded.payable,
                 cash = performance_day.cash + excluded.cash,
                 card = performance_day.card + excluded.card,
                 records = performance_day.records + excluded.records",
        );
        q.build().execute(&mut *conn).await?;
    }
    let mut months: BTreeMap<ConsKey, ConsDelta> = BTreeMap::new();
    for ((p, d, m, svc), v) in &cons {
        let e = months
            .entry((p.clone(), month_of(*d), m.clone(), svc.clone()))
            .or_default();
        e.official_amount += v.official_amount;
        e.payable += v.payable;
        e.coupon += v.coupon;
        e.cash_coupon += v.cash_coupon;
        e.card += v.card;
        e.cash += v.cash;
        e.credit += v.credit;
        e.debt += v.debt;
        e.writeoff += v.writeoff;
        e.records += v.records;
    }
    upsert_consumption(conn, "consumption_day", "day", cons).await?;
    upsert_consumption(conn, "consumption_month", "month", months).await
}

async fn upsert_consumption(
    conn: &mut PgConnection,
    table: &str,
    period: &str,
    rows: BTreeMap<ConsKey, ConsDelta>,
) -> sqlx::Result<()> {
    let rows: Vec<_> = rows.into_iter().collect();
    for chunk in rows.chunks(4_000) {
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!(
            "insert into {table} (partner_id, {period}, manager_id, service_type_code,
                 official_amount, payable, coupon, cash_coupon, card, cash, credit, debt, writeoff,
                 records) "
        ));
        q.push_values(chunk, |mut b, ((p, d, m, s), v)| {
            b.push_bind(p)
                .push_bind(d)
                .push_bind(m)
                .push_bind(s)
                .push_bind(v.official_amount)
                .push_bind(v.payable)
                .push_bind(v.coupon)
                .push_bind(v.cash_coupon)
                .push_bind(v.card)
                .push_bind(v.cash)
                .push_bind(v.credit)
                .push_bind(v.debt)
                .push_bind(v.writeoff)
                .push_bind(v.records);
        });
        q.push(format!(
            " on conflict on constraint {table}_key do update set
                 official_amount = {table}.official_amount + excluded.official_amount,
                 payable = {table}.payable + excluded.payable,
                 coupon = {table}.coupon + excluded.coupon,
                 cash_coupon = {table}.cash_coupon + excluded.cash_coupon,
                 card = {table}.card + excluded.card,
                 cash = {table}.cash + excluded.cash,
                 credit = {table}.credit + excluded.credit,
                 debt = {table}.debt + excluded.debt,
                 writeoff = {table}.writeoff + excluded.writeoff,
                 records = {table}.records + excluded.records"
        ));
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Who and what a read covers: the partner, the visible days `[from, to]`, the managers (a
/// manager's or supervisor's scope, or one named manager) and optionally one customer.
#[derive(Debug, Clone)]
pub struct Scope {
    pub partner_id: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub managers: Option<Vec<String>>,
    pub customer_id: Option<String>,
}

fn push_where(b: &mut QueryBuilder<'_, Postgres>, s: &Scope, with_customer: bool) {
    push_range(b, s, "day", s.from, s.to, with_customer);
}

fn push_range(
    b: &mut QueryBuilder<'_, Postgres>,
    s: &Scope,
    column: &str,
    from: NaiveDate,
    to: NaiveDate,
    with_customer: bool,
) {
    b.push(" where partner_id = ")
        .push_bind(s.partner_id.clone())
        .push(format!(" and {column} >= "))
        .push_bind(from)
        .push(format!(" and {column} <= "))
        .push_bind(to);
    if let Some(ms) = &s.managers {
        b.push(" and manager_id = any(")
            .push_bind(ms.clone())
            .push(")");
    }
    if with_customer {
        if let Some(c) = &s.customer_id {
            b.push(" and customer_id = ").push_bind(c.clone());
        }
    }
}

/// The partner-level rows of the scope as `(month, manager_id, service_type_code, amounts…)`:
/// whole months from `consumption_month`, the last partial month's days from `consumption_day`.
fn push_partner_rows(b: &mut QueryBuilder<'_, Postgres>, s: &Scope) {
    let cols = "manager_id, service_type_code, official_amount, payable, coupon, cash_coupon, card,
        cash, credit, debt, writeoff, records";
    let cut = whole_months_end(s.to);
    b.push("(");
    if s.from < cut {
        b.push(format!("select month, {cols} from consumption_month"));
        push_range(
            b,
            s,
            "month",
            s.from,
            cut.pred_opt().expect("not the first day"),
            false,
        );
        b.push(" union all ");
    }
    b.push(format!(
        "select date_trunc('month', day)::date as month, {cols} from consumption_day"
    ));
    push_range(b, s, "day", cut.max(s.from), s.to, false);
    b.push(") r");
}

/// The first day after the whole months ending at or before `to`.
fn whole_months_end(to: NaiveDate) -> NaiveDate {
    let next = to.succ_opt().expect("not the last day");
    if next == month_of(next) {
        next
    } else {
        month_of(to)
    }
}

/// Sums in fen.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct PerfSum {
    pub payable: i64,
    pub cash: i64,
    pub card: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MonthSum {
    pub month: NaiveDate,
    #[sqlx(flatten)]
    pub sum: PerfSum,
}

/// Performance by month: from `consumption_day` (independent of the number of customers), or
/// from `performance_day` for one customer.
pub async fn by_month(conn: &mut PgConnection, s: &Scope) -> sqlx::Result<Vec<MonthSum>> {
    let mut b = QueryBuilder::new(
        "select month, sum(payable)::bigint as payable, sum(cash)::bigint as cash,
             sum(card)::bigint as card from ",
    );
    if s.customer_id.is_some() {
        b.push("(select date_trunc('month', day)::date as month, payable, cash, card from performance_day");
        push_where(&mut b, s, true);
        b.push(") r");
    } else {
        push_partner_rows(&mut b, s);
    }
    b.push(" group by 1 order by 1");
    b.build_query_as().fetch_all(conn).await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DetailRow {
    pub month: NaiveDate,
    pub customer_id: String,
    pub customer_name: Option<String>,
    pub manager_id: Option<String>,
    #[sqlx(flatten)]
    pub sum: PerfSum,
}

/// Performance by month, customer and manager of the day: newest month first, then customer,
/// then manager (unassigned days first).
pub async fn details(
    conn: &mut PgConnection,
    s: &Scope,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<DetailRow>)> {
    let mut c = QueryBuilder::new("select count(*) from (select 1 from performance_day");
    push_where(&mut c, s, true);
    c.push(" group by date_trunc('month', day), customer_id, manager_id) g");
    let total: i64 = c.build_query_scalar().fetch_one(&mut *conn).await?;
    if total <= offset {
        return Ok((total, Vec::new()));
    }
    let mut b = QueryBuilder::new(
        "select g.month, g.customer_id, a.login_name as customer_name, g.manager_id, g.payable,
             g.cash, g.card
         from (select date_trunc('month', day)::date as month, customer_id, manager_id,
                   sum(payable)::bigint as payable, sum(cash)::bigint as cash,
                   sum(card)::bigint as card
               from performance_day",
    );
    push_where(&mut b, s, true);
    b.push(" group by 1, 2, 3 order by 1 desc, 2, 3 nulls first offset ")
        .push_bind(offset)
        .push(" limit ")
        .push_bind(limit)
        .push(
            ") g left join account a on a.id = g.customer_id
         order by g.month desc, g.customer_id, g.manager_id nulls first",
        );
    let rows = b.build_query_as().fetch_all(&mut *conn).await?;
    Ok((total, rows))
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ServiceMonthRow {
    pub month: NaiveDate,
    pub service_type_code: String,
    pub official_amount: Decimal,
    pub payable: i64,
    pub coupon: i64,
    pub cash_coupon: i64,
    pub card: i64,
    pub cash: i64,
    pub credit: i64,
    pub debt: i64,
    pub writeoff: i64,
    pub records: i64,
}

/// Consumption by month and service type.
pub async fn consumption_by_service(
    conn: &mut PgConnection,
    s: &Scope,
) -> sqlx::Result<Vec<ServiceMonthRow>> {
    let mut b = QueryBuilder::new(
        "select month, service_type_code,
             sum(official_amount) as official_amount, sum(payable)::bigint as payable,
             sum(coupon)::bigint as coupon, sum(cash_coupon)::bigint as cash_coupon,
             sum(card)::bigint as card, sum(cash)::bigint as cash, sum(credit)::bigint as credit,
             sum(debt)::bigint as debt, sum(writeoff)::bigint as writeoff,
             sum(records)::bigint as records
         from ",
    );
    push_partner_rows(&mut b, s);
    b.push(" group by 1, 2 order by 1, 2");
    b.build_query_as().fetch_all(conn).await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ManagerRow {
    pub manager_id: Option<String>,
    #[sqlx(flatten)]
    pub sum: PerfSum,
}

/// Performance by manager of the day (None: days of no manager).
pub async fn performance_by_manager(
    conn: &mut PgConnection,
    s: &Scope,
) -> sqlx::Result<Vec<ManagerRow>> {
    let mut b = QueryBuilder::new(
        "select manager_id, sum(payable)::bigint as payable, sum(cash)::bigint as cash,
             sum(card)::bigint as card
         from ",
    );
    push_partner_rows(&mut b, s);
    b.push(" group by 1 order by sum(cash) + sum(card) desc, 1 nulls first");
    b.build_query_as().fetch_all(conn).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_months_end_after_the_last_complete_month() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(whole_months_end(d("2026-03-31")), d("2026-04-01"));
        assert_eq!(whole_months_end(d("2026-03-30")), d("2026-03-01"));
        assert_eq!(whole_months_end(d("2026-03-01")), d("2026-03-01"));
    }
}
