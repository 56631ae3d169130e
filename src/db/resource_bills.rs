//! A customer's resource consumption records (`list_customerself_resource_records`,
//! `list_customerself_resource_record_details`): fee records one by one, or aggregated in SQL per
//! usage line for the whole cycle or per UTC+8 day. The WHERE clause is the detail lists' (built
//! only from the filters given) and is served by `fee_record_customer_idx`
//! (customer_id, cycle, …) — and `fee_record_customer_resource_idx` for a resource filter.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, Postgres, QueryBuilder};

use crate::db::bills::{push_detail_where, DetailFilter};

/// How records are reported (`statistic_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statistic {
    /// `1`: one row per usage line (resource, product, usage type, unit, price, bill type, …)
    /// for the whole cycle.
    Cycle,
    /// `2`: the same, per UTC+8 day of the usage's begin time.
    Day,
    /// `3`: every fee record.
    Detail,
}

impl Statistic {
    pub fn from_code(n: i64) -> Option<Self> {
        match n {
            1 => Some(Self::Cycle),
            2 => Some(Self::Day),
            3 => Some(Self::Detail),
            _ => None,
        }
    }
}

/// One reported row: a fee record or the sum of a group of them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ResRecord {
    /// The fee record (details) or the day's first fee record (per day); none per cycle.
    pub id: Option<String>,
    pub cycle: NaiveDate,
    /// The UTC+8 day of the usage (details, per day); none per cycle.
    pub bill_date: Option<NaiveDate>,
    pub customer_id: String,
    pub bill_type: i16,
    pub charging_mode: i16,
    pub service_type_code: String,
    pub resource_type_code: String,
    pub region_code: String,
    pub product_id: String,
    pub usage_type: Option<String>,
    pub usage_measure_id: Option<i32>,
    pub unit_price: Option<Decimal>,
    pub price_measure_id: Option<i32>,
    pub resource_id: String,
    pub resource_name: Option<String>,
    pub enterprise_project_id: Option<String>,
    /// The group's trade id when all its records share one.
    pub trade_id: Option<String>,
    /// Earliest usage begin, latest usage end and latest trade time of the group.
    pub begin_time: DateTime<Utc>,
    pub end_time: DateTime<Utc>,
    pub trade_time: DateTime<Utc>,
    pub usage: Option<Decimal>,
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
    pub records: i64,
    pub service_type_name: Option<String>,
    pub resource_type_name: Option<String>,
    pub product_name: Option<String>,
    pub product_spec: Option<String>,
    pub price_unit_name: Option<String>,
    pub account_name: Option<String>,
}

/// The UTC+8 calendar day of the usage's begin time.
const BILL_DATE: &str = "((f.begin_time at time zone 'UTC') + interval '8 hours')::date";

/// The columns a usage line is grouped by (everything the row reports but its sums).
const LINE_KEYS: &str = "f.cycle, f.customer_id, f.bill_type, f.charging_mode, f.service_type_code,
     f.resource_type_code, f.region_code, f.product_id, f.usage_type, f.usage_measure_id,
     f.unit_price, f.price_measure_id, f.resource_id, f.enterprise_project_id";

const DETAIL_SELECT: &str = "select f.id, f.cycle, BILL_DATE as bill_date, f.customer_id,
        f.bill_type, f.charging_mode, f.service_type_code, f.resource_type_code, f.region_code,
        f.product_id, f.usage_type, f.usage_measure_id, f.unit_price, f.price_measure_id,
        f.resource_id, f.resource_name, f.enterprise_project_id, f.trade_id, f.begin_time,
        f.end_time, f.trade_time, f.usage, f.official_amount, f.discount_amount, f.erase_amount,
        f.payable, f.coupon, f.cash_coupon, f.card, f.cash, f.credit, f.debt, f.writeoff,
        1::bigint as records
     from fee_record f";

const SUMS: &str = "max(f.resource_name) as resource_name,
        case when count(distinct f.trade_id) = 1 then min(f.trade_id) end as trade_id,
        min(f.begin_time) as begin_time, max(f.end_time) as end_time,
        max(f.trade_time) as trade_time, sum(f.usage) as usage,
        sum(f.official_amount) as official_amount, sum(f.discount_amount) as discount_amount,
        sum(f.erase_amount) as erase_amount, sum(f.payable)::bigint as payable,
        sum(f.coupon)::bigint as coupon, sum(f.cash_coupon)::bigint as cash_coupon,
        sum(f.card)::bigint as card, sum(f.cash)::bigint as cash, sum(f.credit)::bigint as credit,
        sum(f.debt)::bigint as debt, sum(f.writeoff)::bigint as writeoff,
        count(*) as records
     from fee_record f";

fn push_select(q: &mut QueryBuilder<'_, Postgres>, s: Statistic, f: &DetailFilter) {
    match s {
        Statistic::Detail => {
            q.push(DETAIL_SELECT.replace("BILL_DATE", BILL_DATE));
            push_detail_where(q, f);
        }
        Statistic::Day => {
            q.push(format!(
                "select min(f.id) as id, {BILL_DATE} as bill_date, {LINE_KEYS}, {SUMS}"
            ));
            push_detail_where(q, f);
            q.push(format!(" group by {BILL_DATE}, {LINE_KEYS}"));
        }
        Statistic::Cycle => {
            q.push(format!(
                "select null::text as id, null::date as bill_date, {LINE_KEYS}, {SUMS}"
            ));
            push_detail_where(q, f);
            q.push(format!(" group by {LINE_KEYS}"));
        }
    }
}

/// A total order of the rows (stable paging): newest first for details, by day and usage line
/// for the sums. `t` qualifies the columns (`""` inside, `"g."` outside).
fn order(s: Statistic, t: &str) -> String {
    let cols: &[&str] = match s {
        Statistic::Detail => &["trade_time desc", "id desc"],
        Statistic::Day | Statistic::Cycle => &[
            "bill_date",
            "service_type_code",
            "resource_type_code",
            "resource_id",
            "product_id",
            "usage_type",
            "usage_measure_id",
            "unit_price",
            "price_measure_id",
            "bill_type",
            "charging_mode",
            "region_code",
            "enterprise_project_id",
            "customer_id",
            "cycle",
        ],
    };
    let cols: Vec<String> = cols.iter().map(|c| format!("{t}{c}")).collect();
    format!(" order by {}", cols.join(", "))
}

fn names(english: bool) -> &'static str {
    if english {
        "st.name as service_type_name, rt.name_en as resource_type_name,
         mu.name_en as price_unit_name"
    } else {
        "st.name_zh as service_type_name, rt.name_zh as resource_type_name,
         mu.name_zh as price_unit_name"
    }
}

/// One page of rows and the exact number of rows (groups for the sums).
pub async fn records(
    conn: &mut PgConnection,
    s: Statistic,
    f: &DetailFilter,
    english: bool,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<ResRecord>)> {
    let mut c: QueryBuilder<Postgres> = if s == Statistic::Detail {
        let mut c = QueryBuilder::new("select count(*) from fee_record f");
        push_detail_where(&mut c, f);
        c
    } else {
        let mut c = QueryBuilder::new("select count(*) from (");
        push_select(&mut c, s, f);
        c.push(") g");
        c
    };
    let total: i64 = c.build_query_scalar().fetch_one(&mut *conn).await?;
    if total == 0 || offset >= total {
        return Ok((total, Vec::new()));
    }
    let mut q: QueryBuilder<Postgres> = QueryBuilder::new("select g.*, ");
    q.push(names(english));
    q.push(
        ", p.name as product_name, p.resource_spec as product_spec, a.login_name as account_name
         from (",
    );
    push_select(&mut q, s, f);
    q.push(order(s, ""));
    q.push(" offset ");
    q.push_bind(offset);
    q.push(" limit ");
    q.push_bind(limit);
    q.push(
        ") g left join cloud_service_type st on st.code = g.service_type_code
            left join resource_type rt on rt.code = g.resource_type_code
            left join product p on p.id = g.product_id
            left join measure_unit mu on mu.measure_id = g.price_measure_id
            left join account a on a.id = g.customer_id",
    );
    q.push(order(s, "g."));
    let rows = q.build_query_as().fetch_all(&mut *conn).await?;
    Ok((total, rows))
}
