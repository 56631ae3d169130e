//! Bill queries: fee records (details) and monthly sums. Every filter is added to the statement
//! only when it is given (no catch-all `($n is null or …)` predicates), so each query plans on
//! the customer/partner + cycle indexes.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, Postgres, QueryBuilder};

/// Whose records a partner-side query may read.
#[derive(Debug, Clone)]
pub enum PartnerScope {
    /// The partner's own customers' records and, for a distributor, its resellers' customers'.
    Own(String),
    /// A distributor reading one reseller's customers' records.
    Reseller {
        distributor_id: String,
        reseller_id: String,
    },
}

/// A text filter as the contract spells it: a value, or the literal `""` (empty) or `null`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextFilter {
    Is(String),
    Empty,
    Null,
}

fn push_text(q: &mut QueryBuilder<'_, Postgres>, col: &str, f: &Option<TextFilter>) {
    match f {
        None => {}
        Some(TextFilter::Is(v)) => {
            q.push(format!(" and f.{col} = "));
            q.push_bind(v.clone());
        }
        Some(TextFilter::Empty) => {
            q.push(format!(" and f.{col} = ''"));
        }
        Some(TextFilter::Null) => {
            q.push(format!(" and f.{col} is null"));
        }
    }
}

fn push_scope(q: &mut QueryBuilder<'_, Postgres>, alias: &str, scope: &PartnerScope) {
    match scope {
        PartnerScope::Own(p) => {
            q.push(format!(" and ({alias}.partner_id = "));
            q.push_bind(p.clone());
            q.push(format!(" or {alias}.distributor_id = "));
            q.push_bind(p.clone());
            q.push(")");
        }
        PartnerScope::Reseller {
            distributor_id,
            reseller_id,
        } => {
            q.push(format!(" and {alias}.partner_id = "));
            q.push_bind(reseller_id.clone());
            q.push(format!(" and {alias}.distributor_id = "));
            q.push_bind(distributor_id.clone());
        }
    }
}

fn push_managers(q: &mut QueryBuilder<'_, Postgres>, alias: &str, managers: &Option<Vec<String>>) {
    if let Some(ms) = managers {
        q.push(format!(" and {alias}.manager_id = any("));
        q.push_bind(ms.clone());
        q.push(")");
    }
}

/// Filters of the detail lists (partner and customer side).
#[derive(Debug, Clone, Default)]
pub struct DetailFilter {
    pub cycle: Option<NaiveDate>,
    pub customer_ids: Vec<String>,
    pub partner: Option<PartnerScope>,
    /// Only records charged while one of these managers was assigned.
    pub managers: Option<Vec<String>>,
    pub service_type_code: Option<TextFilter>,
    pub resource_type_code: Option<TextFilter>,
    pub region_code: Option<TextFilter>,
    pub resource_id: Option<TextFilter>,
    pub resource_name: Option<TextFilter>,
    pub trade_id: Option<TextFilter>,
    pub enterprise_project_id: Option<TextFilter>,
    pub charging_mode: Option<i16>,
    pub bill_types: Option<Vec<i16>>,
    pub association_type: Option<i16>,
    /// Usage begin time window (UTC) for `bill_date_begin`/`bill_date_end`.
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Leave out records whose payable amount is 0.
    pub skip_zero: bool,
    /// Only records charged while no manager was assigned (`account_manager_id=null`).
    pub manager_null: bool,
    /// Only records with (true) or without (false) arrears.
    pub in_arrears: Option<bool>,
}

/// `customer_id = $n` for one customer (the planner then walks the ordered
/// `(customer_id, cycle, trade_time, id)` index and stops after a page, and a generic plan keeps
/// the index), `= any($n)` for several.
fn push_customers(q: &mut QueryBuilder<'_, Postgres>, ids: &[String]) {
    match ids {
        [one] => {
            q.push(" f.customer_id = ");
            q.push_bind(one.clone());
        }
        many => {
            q.push(" f.customer_id = any(");
            q.push_bind(many.to_vec());
            q.push(")");
        }
    }
}

pub(crate) fn push_detail_where(q: &mut QueryBuilder<'_, Postgres>, f: &DetailFilter) {
    q.push(" where");
    push_customers(q, &f.customer_ids);
    if let Some(c) = f.cycle {
        q.push(" and f.cycle = ");
        q.push_bind(c);
    }
    if let Some(s) = &f.partner {
        push_scope(q, "f", s);
    }
    push_managers(q, "f", &f.managers);
    push_text(q, "service_type_code", &f.service_type_code);
    push_text(q, "resource_type_code", &f.resource_type_code);
    push_text(q, "region_code", &f.region_code);
    push_text(q, "resource_id", &f.resource_id);
    push_text(q, "resource_name", &f.resource_name);
    push_text(q, "trade_id", &f.trade_id);
    push_text(q, "enterprise_project_id", &f.enterprise_project_id);
    if let Some(m) = f.charging_mode {
        q.push(" and f.charging_mode = ");
        q.push_bind(m);
    }
    if let Some(b) = &f.bill_types {
        q.push(" and f.bill_type = any(");
        q.push_bind(b.clone());
        q.push(")");
    }
    if let Some(a) = f.association_type {
        q.push(" and f.association_type = ");
        q.push_bind(a);
    }
    if let Some(t) = f.from {
        q.push(" and f.begin_time >= ");
        q.push_bind(t);
    }
    if let Some(t) = f.until {
        q.push(" and f.begin_time < ");
        q.push_bind(t);
    }
    if f.skip_zero {
        q.push(" and f.payable <> 0");
    }
    if f.manager_null {
        q.push(" and f.manager_id is null");
    }
    match f.in_arrears {
        Some(true) => {
            q.push(" and f.debt <> 0");
        }
        Some(false) => {
            q.push(" and f.debt = 0");
        }
        None => {}
    }
}

/// A fee record with its catalogue names.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FeeDetail {
    pub id: String,
    pub cycle: NaiveDate,
    pub customer_id: String,
    pub partner_id: Option<String>,
    pub association_type: Option<i16>,
    pub manager_id: Option<String>,
    pub bill_type: i16,
    pub charging_mode: i16,
    pub service_type_code: String,
    pub resource_type_code: String,
    pub region_code: String,
    pub product_id: String,
    pub usage_type: Option<String>,
    pub usage: Option<Decimal>,
    pub usage_measure_id: Option<i32>,
    pub unit_price: Option<Decimal>,
    pub price_measure_id: Option<i32>,
    pub resource_id: String,
    pub resource_name: Option<String>,
    pub enterprise_project_id: Option<String>,
    pub begin_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    pub trade_time: DateTime<Utc>,
    pub trade_id: String,
    pub official_amount: Decimal,
    pub discount_amount: Decimal,
    pub erase_amount: Decimal,
    pub payable: i64,
    pub coupon: i64,
    pub cash_coupon: i64,
    pub card: i64,
    pub cash: i64,
    pub credit: i64,
    pub debt: i64,
    pub writeoff: i64,
    pub service_type_name: Option<String>,
    pub resource_type_name: Option<String>,
    pub product_name: Option<String>,
    pub account_name: Option<String>,
}

const DETAIL_COLUMNS: &str =
    "select f.id, f.cycle, f.customer_id, f.partner_id, f.association_type,
        f.manager_id, f.bill_type, f.charging_mode, f.service_type_code, f.resource_type_code,
        f.region_code, f.product_id, f.usage_type, f.usage, f.usage_measure_id, f.unit_price,
        f.price_measure_id, f.resource_id, f.resource_name, f.enterprise_project_id, f.begin_time,
        f.end_time, f.trade_time, f.trade_id, f.official_amount, f.discount_amount, f.erase_amount,
        f.payable, f.coupon, f.cash_coupon, f.card, f.cash, f.credit, f.debt, f.writeoff, ";

fn names(english: bool) -> &'static str {
    if english {
        "st.name as service_type_name, rt.name_en as resource_type_name, p.name as product_name,
         a.login_name as account_name"
    } else {
        "st.name_zh as service_type_name, rt.name_zh as resource_type_name, p.name as product_name,
         a.login_name as account_name"
    }
}

const DETAIL_JOINS: &str = " from fee_record f
     left join cloud_service_type st on st.code = f.service_type_code
     left join resource_type rt on rt.code = f.resource_type_code
     left join product p on p.id = f.product_id
     left join account a on a.id = f.customer_id";

/// One page of fee records, newest first, and the total count.
pub async fn details(
    conn: &mut PgConnection,
    f: &DetailFilter,
    english: bool,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<FeeDetail>)> {
    let mut c: QueryBuilder<Postgres> = QueryBuilder::new("select count(*) from fee_record f");
    push_detail_where(&mut c, f);
    let total: i64 = c.build_query_scalar().fetch_one(&mut *conn).await?;
    if total == 0 || offset >= total {
        return Ok((total, Vec::new()));
    }
    let mut q: QueryBuilder<Postgres> = QueryBuilder::new(DETAIL_COLUMNS);
    q.push(names(english));
    q.push(DETAIL_JOINS);
    push_detail_where(&mut q, f);
    q.push(" order by f.trade_time desc, f.id desc offset ");
    q.push_bind(offset);
    q.push(" limit ");
    q.push_bind(limit);
    let rows = q.build_query_as().fetch_all(&mut *conn).await?;
    Ok((total, rows))
}

/// The detail query for a streamed export of a partner's records of one cycle (oldest first).
pub fn export_query(
    scope: &PartnerScope,
    cycle: NaiveDate,
    english: bool,
) -> QueryBuilder<'static, Postgres> {
    let mut q: QueryBuilder<Postgres> = QueryBuilder::new(DETAIL_COLUMNS);
    q.push(names(english));
    q.push(DETAIL_JOINS);
    q.push(" where f.cycle = ");
    q.push_bind(cycle);
    push_scope(&mut q, "f", scope);
    q.push(" order by f.trade_time, f.id");
    q
}

/// Sums grouped by (customer, service type, resource type, summary bill type, charging mode).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SumRow {
    pub customer_id: String,
    pub service_type_code: String,
    pub resource_type_code: String,
    pub bill_type: i16,
    pub charging_mode: i16,
    pub official_amount: Decimal,
    pub discount_amount: Decimal,
    pub erase_amount: Decimal,
    pub payable: i64,
    pub coupon: i64,
    pub cash_coupon: i64,
    pub card: i64,
    pub cash: i64,
    pub credit: i64,
    pub debt: i64,
    pub writeoff: i64,
    pub service_type_name: Option<String>,
    pub resource_type_name: Option<String>,
    pub account_name: Option<String>,
}

/// Filters of the monthly sums.
#[derive(Debug, Clone, Default)]
pub struct SumFilter {
    pub cycle: Option<NaiveDate>,
    /// Given: only these customers (a customer's own view); else the partner scope.
    pub customer_ids: Option<Vec<String>>,
    pub partner: Option<PartnerScope>,
    pub managers: Option<Vec<String>>,
    pub association_type: Option<i16>,
    pub service_type_code: Option<String>,
    pub charging_mode: Option<i16>,
    pub bill_type: Option<i16>,
    pub enterprise_project_id: Option<TextFilter>,
}

fn push_sum_where(q: &mut QueryBuilder<'_, Postgres>, f: &SumFilter) {
    q.push(" where true");
    if let Some(c) = f.cycle {
        q.push(" and f.cycle = ");
        q.push_bind(c);
    }
    if let Some(ids) = &f.customer_ids {
        q.push(" and");
        push_customers(q, ids);
    }
    if let Some(s) = &f.partner {
        push_scope(q, "f", s);
    }
    push_managers(q, "f", &f.managers);
    if let Some(a) = f.association_type {
        q.push(" and f.association_type = ");
        q.push_bind(a);
    }
    if let Some(s) = &f.service_type_code {
        q.push(" and f.service_type_code = ");
        q.push_bind(s.clone());
    }
    if let Some(m) = f.charging_mode {
        q.push(" and f.charging_mode = ");
        q.push_bind(m);
    }
    if let Some(b) = f.bill_type {
        q.push(" and f.bill_type = ");
        q.push_bind(b);
    }
    push_text(q, "enterprise_project_id", &f.enterprise_project_id);
}

const SUM_GROUP: &str = " group by f.customer_id, f.service_type_code, f.resource_type_code,
     f.bill_type, f.charging_mode";

/// One page of grouped sums and the number of groups.
pub async fn sums(
    conn: &mut PgConnection,
    f: &SumFilter,
    english: bool,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<SumRow>)> {
    let mut c: QueryBuilder<Postgres> =
        QueryBuilder::new("select count(*) from (select 1 from bill_sum f");
    push_sum_where(&mut c, f);
    c.push(SUM_GROUP);
    c.push(") g");
    let total: i64 = c.build_query_scalar().fetch_one(&mut *conn).await?;
    if total == 0 || offset >= total {
        return Ok((total, Vec::new()));
    }
    let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
        "select g.*, st.name_zh as name_zh, st.name as name_en, rt.name_zh as rname_zh,
                rt.name_en as rname_en, a.login_name as account_name
         from (select f.customer_id, f.service_type_code, f.resource_type_code, f.bill_type,
                      f.charging_mode, sum(f.official_amount) as official_amount,
                      sum(f.discount_amount) as discount_amount, sum(f.erase_amount) as erase_amount,
                      sum(f.payable)::bigint as payable, sum(f.coupon)::bigint as coupon,
                      sum(f.cash_coupon)::bigint as cash_coupon, sum(f.card)::bigint as card,
                      sum(f.cash)::bigint as cash, sum(f.credit)::bigint as credit,
                      sum(f.debt)::bigint as debt, sum(f.writeoff)::bigint as writeoff
               from bill_sum f",
    );
    push_sum_where(&mut q, f);
    q.push(SUM_GROUP);
    q.push(
        " order by f.customer_id, f.service_type_code, f.resource_type_code, f.bill_type,
                   f.charging_mode offset ",
    );
    q.push_bind(offset);
    q.push(" limit ");
    q.push_bind(limit);
    q.push(
        ") g left join cloud_service_type st on st.code = g.service_type_code
            left join resource_type rt on rt.code = g.resource_type_code
            left join account a on a.id = g.customer_id
         order by g.customer_id, g.service_type_code, g.resource_type_code, g.bill_type,
                  g.charging_mode",
    );
    let raw: Vec<RawSum> = q.build_query_as().fetch_all(&mut *conn).await?;
    Ok((
        total,
        raw.into_iter()
            .map(|r| SumRow {
                customer_id: r.customer_id,
                service_type_code: r.service_type_code,
                resource_type_code: r.resource_type_code,
                bill_type: r.bill_type,
                charging_mode: r.charging_mode,
                official_amount: r.official_amount,
                discount_amount: r.discount_amount,
                erase_amount: r.erase_amount,
                payable: r.payable,
                coupon: r.coupon,
                cash_coupon: r.cash_coupon,
                card: r.card,
                cash: r.cash,
                credit: r.credit,
                debt: r.debt,
                writeoff: r.writeoff,
                service_type_name: if english { r.name_en } else { r.name_zh },
                resource_type_name: if english { r.rname_en } else { r.rname_zh },
                account_name: r.account_name,
            })
            .collect(),
    ))
}

#[derive(sqlx::FromRow)]
struct RawSum {
    customer_id: String,
    service_type_code: String,
    resource_type_code: String,
    bill_type: i16,
    charging_mode: i16,
    official_amount: Decimal,
    discount_amount: Decimal,
    erase_amount: Decimal,
    payable: i64,
    coupon: i64,
    cash_coupon: i64,
    card: i64,
    cash: i64,
    credit: i64,
    debt: i64,
    writeoff: i64,
    name_zh: Option<String>,
    name_en: Option<String>,
    rname_zh: Option<String>,
    rname_en: Option<String>,
    account_name: Option<String>,
}

/// Totals over every row of the filter (a customer's monthly summary totals).
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct Totals {
    pub payable: i64,
    pub coupon: i64,
    pub cash_coupon: i64,
    pub card: i64,
    pub cash: i64,
    pub credit: i64,
    pub debt: i64,
    pub writeoff: i64,
}

pub async fn totals(conn: &mut PgConnection, f: &SumFilter) -> sqlx::Result<Totals> {
    let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
        "select coalesce(sum(f.payable), 0)::bigint as payable,
                coalesce(sum(f.coupon), 0)::bigint as coupon,
                coalesce(sum(f.cash_coupon), 0)::bigint as cash_coupon,
                coalesce(sum(f.card), 0)::bigint as card,
                coalesce(sum(f.cash), 0)::bigint as cash,
                coalesce(sum(f.credit), 0)::bigint as credit,
                coalesce(sum(f.debt), 0)::bigint as debt,
                coalesce(sum(f.writeoff), 0)::bigint as writeoff
         from bill_sum f",
    );
    push_sum_where(&mut q, f);
    q.build_query_as().fetch_one(&mut *conn).await
}

/// Customers with consumption in a cycle within the partner scope (even if no longer
/// associated), by id.
pub async fn consuming_customers(
    conn: &mut PgConnection,
    f: &SumFilter,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<String>)> {
    let mut c: QueryBuilder<Postgres> =
        QueryBuilder::new("select count(distinct f.customer_id) from bill_sum f");
    push_sum_where(&mut c, f);
    let total: i64 = c.build_query_scalar().fetch_one(&mut *conn).await?;
    if total == 0 || offset >= total {
        return Ok((total, Vec::new()));
    }
    let mut q: QueryBuilder<Postgres> =
        QueryBuilder::new("select distinct f.customer_id from bill_sum f");
    push_sum_where(&mut q, f);
    q.push(" order by f.customer_id offset ");
    q.push_bind(offset);
    q.push(" limit ");
    q.push_bind(limit);
    let ids = q.build_query_scalar().fetch_all(&mut *conn).await?;
    Ok((total, ids))
}
