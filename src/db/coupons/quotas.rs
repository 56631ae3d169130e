//! Coupon quotas (issued by the vendor to partners, and by distributors to resellers) and their
//! records. A quota's balance is its ledger account; only `crate::ledger` writes it.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, QueryBuilder};

const QUOTA_SELECT: &str = "select q.id, q.partner_id, q.parent_quota_id, q.quota_type, q.quota_value,
        (case when q.status = 0 and q.expire_time <= $1 then 3 else q.status end)::smallint as status,
        q.status as stored_status, q.effective_time, q.expire_time, q.min_face_value,
        q.max_face_value, q.max_coupons_per_issue, q.max_total_face_value_per_issue,
        q.cloud_service_types, q.product_ids,
        q.first_time_only, q.designated_customers, q.created_at, q.updated_at,
        coalesce(la.balance, 0) as balance,
        a.login_name as partner_login, coalesce(p.name, '') as partner_name
    from coupon_quota q
    left join ledger_account la on la.owner_id = q.id and la.purpose = 'partner_coupon_quota'
    join account a on a.id = q.partner_id
    join partner p on p.account_id = q.partner_id";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QuotaRow {
    pub id: String,
    pub partner_id: String,
    pub parent_quota_id: Option<String>,
    pub quota_type: i16,
    pub quota_value: i64,
    /// Derived status (0, 3, 4, 5, 6).
    pub status: i16,
    pub stored_status: i16,
    pub effective_time: DateTime<Utc>,
    pub expire_time: DateTime<Utc>,
    pub min_face_value: Option<i64>,
    pub max_face_value: Option<i64>,
    pub max_coupons_per_issue: Option<i32>,
    /// The most face value one issue call may hand out (fen); later customers get CBC.99000021.
    pub max_total_face_value_per_issue: Option<i64>,
    pub cloud_service_types: Vec<String>,
    pub product_ids: Vec<String>,
    pub first_time_only: bool,
    pub designated_customers: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub balance: i64,
    pub partner_login: String,
    pub partner_name: String,
}

pub struct NewQuota<'a> {
    pub id: &'a str,
    pub partner_id: &'a str,
    pub parent_quota_id: Option<&'a str>,
    pub quota_type: i16,
    pub quota_value: i64,
    pub effective_time: DateTime<Utc>,
    pub expire_time: DateTime<Utc>,
    pub min_face_value: Option<i64>,
    pub max_face_value: Option<i64>,
    pub max_coupons_per_issue: Option<i32>,
    pub max_total_face_value_per_issue: Option<i64>,
    pub cloud_service_types: &'a [String],
    pub product_ids: &'a [String],
    pub first_time_only: bool,
    pub designated_customers: &'a [String],
    pub at: DateTime<Utc>,
}

pub async fn insert_quota(conn: &mut PgConnection, q: &NewQuota<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into coupon_quota (id, partner_id, parent_quota_id, quota_type, quota_value,
             effective_time, expire_time, min_face_value, max_face_value, max_coupons_per_issue,
             max_total_face_value_per_issue, cloud_service_types, product_ids, first_time_only,
             designated_customers, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)",
        q.id,
        q.partner_id,
        q.parent_quota_id,
        q.quota_type,
        q.quota_value,
        q.effective_time,
        q.expire_time,
        q.min_face_value,
        q.max_face_value,
        q.max_coupons_per_issue,
        q.max_total_face_value_per_issue,
        q.cloud_service_types,
        q.product_ids,
        q.first_time_only,
        q.designated_customers,
        q.at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// One quota; `lock` takes its row lock (status changes serialise with issuing).
pub async fn find_quota(
    conn: &mut PgConnection,
    id: &str,
    now: DateTime<Utc>,
    lock: bool,
) -> sqlx::Result<Option<QuotaRow>> {
    let sql = format!(
        "{QUOTA_SELECT} where q.id = $2{}",
        if lock { " for update of q" } else { "" }
    );
    sqlx::query_as::<_, QuotaRow>(&sql)
        .bind(now)
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub async fn set_quota_status(
    conn: &mut PgConnection,
    id: &str,
    status: i16,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update coupon_quota set status = $2, updated_at = $3 where id = $1",
        id,
        status,
        at
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_quota_value(
    conn: &mut PgConnection,
    id: &str,
    value: i64,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update coupon_quota set quota_value = $2, updated_at = $3 where id = $1",
        id,
        value,
        at
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn touch_quota(conn: &mut PgConnection, id: &str, at: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query!(
        "update coupon_quota set updated_at = $2 where id = $1",
        id,
        at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Filters of the quota lists; `None` = no filter.
#[derive(Debug, Default, Clone)]
pub struct QuotaFilter {
    /// Owner of the quotas (own quotas), or...
    pub partner_id: Option<String>,
    /// ...the distributor whose quotas are the parents (issued-quota listing).
    pub parent_owner_id: Option<String>,
    pub ids: Option<Vec<String>>,
    pub statuses: Option<Vec<i16>>,
    pub quota_type: Option<i16>,
    pub parent_quota_id: Option<String>,
    pub create_begin: Option<DateTime<Utc>>,
    pub create_end: Option<DateTime<Utc>>,
    pub effective_begin: Option<DateTime<Utc>>,
    pub effective_end: Option<DateTime<Utc>>,
    pub expire_begin: Option<DateTime<Utc>>,
    pub expire_end: Option<DateTime<Utc>>,
}

pub async fn list_quotas(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    f: &QuotaFilter,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<QuotaRow>)> {
    let total: i64 = {
        let mut b = quota_query_with_now("select count(*)", now, f);
        b.build_query_scalar().fetch_one(&mut *conn).await?
    };
    let mut b = quota_query_with_now("select v.*", now, f);
    b.push(" order by v.created_at desc, v.id desc offset ")
        .push_bind(offset)
        .push(" limit ")
        .push_bind(limit);
    let rows = b.build_query_as::<QuotaRow>().fetch_all(conn).await?;
    Ok((total, rows))
}

fn quota_query_with_now<'a>(
    head: &str,
    now: DateTime<Utc>,
    f: &'a QuotaFilter,
) -> QueryBuilder<'a, Postgres> {
    let mut b = QueryBuilder::new("with now_param as (select ");
    b.push_bind(now).push("::timestamptz as t), v as (");
    b.push(QUOTA_SELECT.replace("$1", "(select t from now_param)"));
    b.push(format!(") {head} from v where true"));
    if let Some(p) = &f.partner_id {
        b.push(" and v.partner_id = ").push_bind(p.clone());
    }
    if let Some(p) = &f.parent_owner_id {
        b.push(" and v.parent_quota_id in (select id from coupon_quota where partner_id = ")
            .push_bind(p.clone())
            .push(")");
    }
    if let Some(ids) = &f.ids {
        b.push(" and v.id = any(").push_bind(ids.clone()).push(")");
    }
    if let Some(s) = &f.statuses {
        b.push(" and v.status = any(")
            .push_bind(s.clone())
            .push(")");
    }
    if let Some(t) = f.quota_type {
        b.push(" and v.quota_type = ").push_bind(t);
    }
    if let Some(p) = &f.parent_quota_id {
        b.push(" and v.parent_quota_id = ").push_bind(p.clone());
    }
    let ranges = [
        ("created_at", ">=", f.create_begin),
        ("created_at", "<=", f.create_end),
        ("effective_time", ">=", f.effective_begin),
        ("effective_time", "<=", f.effective_end),
        ("expire_time", ">=", f.expire_begin),
        ("expire_time", "<=", f.expire_end),
    ];
    for (col, op, v) in ranges {
        if let Some(v) = v {
            b.push(format!(" and v.{col} {op} ")).push_bind(v);
        }
    }
    b
}

pub struct NewQuotaRecord<'a> {
    pub id: &'a str,
    pub partner_id: &'a str,
    pub operator_id: &'a str,
    pub operation_type: &'a str,
    pub quota_id: &'a str,
    pub parent_quota_id: &'a str,
    pub indirect_partner_id: &'a str,
    pub amount: i64,
    pub remark: Option<&'a str>,
    pub at: DateTime<Utc>,
}

pub async fn insert_quota_record(
    conn: &mut PgConnection,
    r: &NewQuotaRecord<'_>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into quota_record (id, partner_id, operator_id, operation_type, quota_id,
             parent_quota_id, indirect_partner_id, amount, result, remark, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, '0', $9, $10)",
        r.id,
        r.partner_id,
        r.operator_id,
        r.operation_type,
        r.quota_id,
        r.parent_quota_id,
        r.indirect_partner_id,
        r.amount,
        r.remark,
        r.at
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QuotaRecordRow {
    pub id: String,
    pub operator_login: Option<String>,
    pub operation_type: String,
    pub quota_id: String,
    pub parent_quota_id: String,
    pub amount: i64,
    pub result: String,
    pub remark: Option<String>,
    pub created_at: DateTime<Utc>,
    pub indirect_partner_id: String,
    pub indirect_partner_login: String,
    pub indirect_partner_name: String,
}

#[derive(Debug, Default, Clone)]
pub struct QuotaRecordFilter {
    pub indirect_partner_id: Option<String>,
    pub quota_id: Option<String>,
    pub parent_quota_id: Option<String>,
    pub operation_type: Option<String>,
    pub begin: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
}

fn quota_record_query<'a>(
    partner_id: &str,
    head: &str,
    f: &'a QuotaRecordFilter,
) -> QueryBuilder<'a, Postgres> {
    let mut b = QueryBuilder::new(format!(
        "{head} from quota_record r
         join account ra on ra.id = r.indirect_partner_id
         join partner rp on rp.account_id = r.indirect_partner_id
         left join account oa on oa.id = r.operator_id
         where r.partner_id = "
    ));
    b.push_bind(partner_id.to_string());
    if let Some(v) = &f.indirect_partner_id {
        b.push(" and r.indirect_partner_id = ").push_bind(v.clone());
    }
    if let Some(v) = &f.quota_id {
        b.push(" and r.quota_id = ").push_bind(v.clone());
    }
    if let Some(v) = &f.parent_quota_id {
        b.push(" and r.parent_quota_id = ").push_bind(v.clone());
    }
    if let Some(v) = &f.operation_type {
        b.push(" and r.operation_type = ").push_bind(v.clone());
    }
    if let Some(t) = f.begin {
        b.push(" and r.created_at >= ").push_bind(t);
    }
    if let Some(t) = f.end {
        b.push(" and r.created_at <= ").push_bind(t);
    }
    b
}

pub async fn list_quota_records(
    conn: &mut PgConnection,
    partner_id: &str,
    f: &QuotaRecordFilter,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<QuotaRecordRow>)> {
    let total: i64 = quota_record_query(partner_id, "select count(*)", f)
        .build_query_scalar()
        .fetch_one(&mut *conn)
        .await?;
    let mut b = quota_record_query(
        partner_id,
        "select r.id, oa.login_name as operator_login, r.operation_type, r.quota_id,
                r.parent_quota_id, r.amount, r.result, r.remark, r.created_at,
                r.indirect_partner_id, ra.login_name as indirect_partner_login,
                coalesce(rp.name, '') as indirect_partner_name",
        f,
    );
    b.push(" order by r.created_at desc, r.id desc offset ")
        .push_bind(offset)
        .push(" limit ")
        .push_bind(limit);
    let rows = b.build_query_as::<QuotaRecordRow>().fetch_all(conn).await?;
    Ok((total, rows))
}
