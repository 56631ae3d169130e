use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, QueryBuilder};

#[derive(Debug, Clone)]
pub struct CustomerRow {
    pub account_id: String,
    pub partner_id: Option<String>,
    pub association_type: Option<String>,
    pub associated_on: Option<DateTime<Utc>>,
    pub xaccount_type: String,
    pub xaccount_id: String,
}

pub async fn find_customer(conn: &mut PgConnection, id: &str) -> sqlx::Result<Option<CustomerRow>> {
    sqlx::query_as!(
        CustomerRow,
        "select account_id, partner_id, association_type, associated_on, xaccount_type, xaccount_id
         from customer where account_id = $1",
        id
    )
    .fetch_optional(conn)
    .await
}

pub struct NewCustomer<'a> {
    pub account_id: &'a str,
    pub partner_id: &'a str,
    pub association_type: &'a str,
    pub associated_on: DateTime<Utc>,
    pub xaccount_type: &'a str,
    pub xaccount_id: &'a str,
    pub country_code: Option<&'a str>,
    pub is_close_market_ms: bool,
}

pub async fn insert_customer(conn: &mut PgConnection, c: &NewCustomer<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into customer (account_id, partner_id, association_type, associated_on,
                               xaccount_type, xaccount_id, country_code, is_close_market_ms)
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
        c.account_id,
        c.partner_id,
        c.association_type,
        c.associated_on,
        c.xaccount_type,
        c.xaccount_id,
        c.country_code,
        c.is_close_market_ms
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn xaccount_id_taken(
    conn: &mut PgConnection,
    xaccount_type: &str,
    xaccount_id: &str,
) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"select exists(select 1 from customer where xaccount_type = $1 and xaccount_id = $2) as "e!""#,
        xaccount_type,
        xaccount_id
    )
    .fetch_one(conn)
    .await
}

/// Whether one of this partner's customers already uses the mobile number.
pub async fn partner_has_mobile(
    conn: &mut PgConnection,
    partner_id: &str,
    mobile: &str,
) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"select exists(select 1 from customer c join account a on a.id = c.account_id
                         where c.partner_id = $1 and a.mobile_phone = $2) as "e!""#,
        partner_id,
        mobile
    )
    .fetch_one(conn)
    .await
}

/// Filters of list-sub-customers; `None` means "no filter". Substring values are already
/// LIKE-escaped.
#[derive(Debug, Default)]
pub struct CustomerFilter {
    pub account_name_like: Option<String>,
    pub customer_like: Option<String>,
    pub label_like: Option<String>,
    pub association_type: Option<String>,
    pub associated_on_begin: Option<DateTime<Utc>>,
    pub associated_on_end: Option<DateTime<Utc>>,
    pub customer_id: Option<String>,
    /// Only customers assigned to these managers (a manager's or supervisor's view).
    pub manager_ids: Option<Vec<String>>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CustomerInfo {
    pub customer_id: String,
    pub account_name: String,
    pub mobile_phone: Option<String>,
    pub email: Option<String>,
    pub real_name: Option<String>,
    pub associated_on: Option<DateTime<Utc>>,
    pub association_type: Option<String>,
    pub label: Option<String>,
    pub verified_status: String,
    pub country_code: Option<String>,
    pub customer_type: i16,
    pub is_frozen: i16,
    pub account_manager: Option<String>,
    pub xaccount_id: String,
    pub xaccount_type: String,
    pub customer_level: Option<String>,
}

/// The filters of [`list_customers`] as SQL, built per filter set (a catch-all
/// `($n is null or …)` would switch a pooled connection to a generic plan that scans every
/// customer). Each filter is served by an index: `customer_partner_idx` for the partner's
/// pages, the primary key for `customer_id`, the index of login-name suffixes for the account
/// name (migrations 0027, 0029), trigram indexes for real names and labels (migration 0019).
fn push_customer_filters<'a>(
    qb: &mut QueryBuilder<'a, Postgres>,
    partner_id: &'a str,
    f: &'a CustomerFilter,
) {
    qb.push(" where c.partner_id = ").push_bind(partner_id);
    if let Some(v) = &f.customer_id {
        qb.push(" and c.account_id = ").push_bind(v);
    }
    if let Some(v) = &f.account_name_like {
        // Through the index of every suffix of a login name (migrations 0027, 0029): the names of
        // which one suffix starts with the pattern, i.e. that contain it. A pattern longer than
        // the indexed suffixes is looked up by its start and checked whole with LIKE.
        let literal = crate::domain::validate::like_unescape(v);
        qb.push(" and login_name_suffixes(a.login_name) @@ ")
            .push_bind(suffix_prefix_query(&literal))
            .push("::tsquery");
        if literal.chars().count() > SUFFIX_CHARS {
            qb.push(" and a.login_name like '%' || ")
                .push_bind(v)
                .push(" || '%'");
        }
    }
    if let Some(v) = &f.customer_like {
        qb.push(" and c.real_name like '%' || ")
            .push_bind(v)
            .push(" || '%'");
    }
    if let Some(v) = &f.label_like {
        qb.push(" and c.label like '%' || ")
            .push_bind(v)
            .push(" || '%'");
    }
    if let Some(v) = &f.association_type {
        qb.push(" and c.association_type = ").push_bind(v);
    }
    if let Some(v) = &f.associated_on_begin {
        qb.push(" and c.associated_on >= ").push_bind(v);
    }
    if let Some(v) = &f.associated_on_end {
        qb.push(" and c.associated_on <= ").push_bind(v);
    }
    if let Some(v) = &f.manager_ids {
        qb.push(" and c.manager_id = any(").push_bind(v).push(")");
    }
}

/// How many characters of each suffix of a login name the index holds (migration 0027).
const SUFFIX_CHARS: usize = 32;

/// The `tsquery` matching the login names that contain `literal`: its first [`SUFFIX_CHARS`]
/// characters as a prefix of an indexed suffix, quoted as one lexeme (`'` and `\` doubled, so
/// nothing in it is query syntax).
fn suffix_prefix_query(literal: &str) -> String {
    let mut q = String::with_capacity(literal.len() + 5);
    q.push('\'');
    for c in literal.chars().take(SUFFIX_CHARS) {
        if c == '\'' || c == '\\' {
            q.push(c);
        }
        q.push(c);
    }
    q.push_str("':*");
    q
}

/// The columns of a list row ([`CustomerInfo`]) and the joins they need; filters follow.
const INFO_ROWS: &str =
    "select c.account_id as customer_id, a.login_name as account_name, a.mobile_phone, a.email,
                c.real_name, c.associated_on, c.association_type, c.label, c.verified_status,
                c.country_code, c.customer_type, c.is_frozen,
                coalesce(m.login_name, c.account_manager) as account_manager, c.xaccount_id,
                c.xaccount_type, c.customer_level
         from customer c join account a on a.id = c.account_id
         left join account m on m.id = c.manager_id";

pub async fn list_customers(
    conn: &mut PgConnection,
    partner_id: &str,
    f: &CustomerFilter,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<CustomerInfo>)> {
    if f.account_name_like.is_some() || f.customer_like.is_some() || f.label_like.is_some() {
        return list_matching(conn, partner_id, f, offset, limit).await;
    }
    // No substring filter from here on.
    let unfiltered = f.association_type.is_none()
        && f.associated_on_begin.is_none()
        && f.associated_on_end.is_none()
        && f.customer_id.is_none()
        && f.manager_ids.is_none();
    let total: i64 = if unfiltered {
        // The maintained per-partner counter (migration 0019): exact, without counting.
        sqlx::query_scalar("select customers from partner_list_count where partner_id = $1")
            .bind(partner_id)
            .fetch_optional(&mut *conn)
            .await?
            .unwrap_or(0)
    } else {
        count_customers(conn, partner_id, f).await?
    };
    // The page first (from the index), then its rows' accounts and managers.
    let mut rows = QueryBuilder::new(INFO_ROWS);
    push_customer_filters(&mut rows, partner_id, f);
    rows.push(" order by c.associated_on desc, c.account_id desc");
    super::push_page(&mut rows, offset, limit);
    let rows = rows.build_query_as().fetch_all(conn).await?;
    Ok((total, rows))
}

/// A substring search in one pass: an index finds the matches once (the login-name suffixes of
/// migrations 0027 and 0029 for the account name, trigrams for real names and labels), and the
/// page's ids and the exact count both come from them (a count and a page of their own would
/// search twice).
/// Only a page past the end asks for the count alone.
///
/// The matches are a `materialized` CTE. As one statement, `count(*) over ()` under
/// `order by … limit`, PostgreSQL 15 costs the page as if the window could stop after ten rows,
/// so a pattern estimated at a thousand matches out of 1M looked cheapest by walking the
/// partner's customers newest first and testing every name: 4.4 s at 1M customers for one match
/// (the whole walk, as the count needs every row). Planned alone, the matches come from the
/// index whatever the estimate.
///
/// The page's rows are then read by id in a statement of their own. Joined to the search, they
/// made one statement of four joins that PostgreSQL planned again on every call: ~0.85 ms of
/// planning at 1M customers, more than the search itself. The read by id keeps its generic plan.
async fn list_matching(
    conn: &mut PgConnection,
    partner_id: &str,
    f: &CustomerFilter,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<CustomerInfo>)> {
    let mut q = QueryBuilder::new(
        "with m as materialized (select c.account_id, c.associated_on from customer c",
    );
    if f.account_name_like.is_some() {
        q.push(" join account a on a.id = c.account_id");
    }
    push_customer_filters(&mut q, partner_id, f);
    // Offset and limit bound, not written in (unlike [`super::push_page`]): the plan of a
    // substring search stays made for its pattern.
    q.push(
        ") select account_id, (select count(*) from m) as total from m
           order by associated_on desc, account_id desc offset ",
    )
    .push_bind(offset)
    .push(" limit ")
    .push_bind(limit);
    let page: Vec<(String, i64)> = q.build_query_as().fetch_all(&mut *conn).await?;
    let total = match page.first() {
        Some((_, total)) => *total,
        None if offset == 0 => 0,
        None => count_customers(conn, partner_id, f).await?,
    };
    let ids: Vec<String> = page.into_iter().map(|(id, _)| id).collect();
    Ok((total, customer_infos(conn, &ids).await?))
}

/// The list rows of these customers, in list order (newest association first).
async fn customer_infos(
    conn: &mut PgConnection,
    ids: &[String],
) -> sqlx::Result<Vec<CustomerInfo>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut rows = QueryBuilder::new(INFO_ROWS);
    rows.push(" where c.account_id = any(")
        .push_bind(ids)
        .push(") order by c.associated_on desc, c.account_id desc");
    rows.build_query_as().fetch_all(conn).await
}

/// The exact number of the partner's customers matching `f` (joins `account` only for a name
/// filter).
async fn count_customers(
    conn: &mut PgConnection,
    partner_id: &str,
    f: &CustomerFilter,
) -> sqlx::Result<i64> {
    let mut count = QueryBuilder::new("select count(*) from customer c");
    if f.account_name_like.is_some() {
        count.push(" join account a on a.id = c.account_id");
    }
    push_customer_filters(&mut count, partner_id, f);
    count.build_query_scalar().fetch_one(conn).await
}

#[derive(Debug, Clone)]
pub struct CustomerDetail {
    pub account_id: String,
    pub partner_id: Option<String>,
    pub association_type: Option<String>,
    pub verified_status: String,
    pub customer_type: i16,
    pub is_frozen: i16,
}

pub async fn find_customer_detail(
    conn: &mut PgConnection,
    id: &str,
) -> sqlx::Result<Option<CustomerDetail>> {
    sqlx::query_as!(
        CustomerDetail,
        "select account_id, partner_id, association_type, verified_status, customer_type, is_frozen
         from customer where account_id = $1",
        id
    )
    .fetch_optional(conn)
    .await
}

/// [`find_customer_detail`] with a share lock held until the transaction ends: money may move
/// to or from the customer only while its association cannot change underneath.
pub async fn lock_customer_detail_shared(
    conn: &mut PgConnection,
    id: &str,
) -> sqlx::Result<Option<CustomerDetail>> {
    sqlx::query_as!(
        CustomerDetail,
        "select account_id, partner_id, association_type, verified_status, customer_type, is_frozen
         from customer where account_id = $1 for share",
        id
    )
    .fetch_optional(conn)
    .await
}

/// Sets the vendor's flags of a customer (`None` leaves one unchanged); the resulting
/// `financially_custodied`, or `None` when there is no such customer.
pub async fn update_customer_flags(
    conn: &mut PgConnection,
    id: &str,
    financially_custodied: Option<bool>,
) -> sqlx::Result<Option<bool>> {
    sqlx::query_scalar!(
        "update customer set financially_custodied = coalesce($2, financially_custodied)
         where account_id = $1 returning financially_custodied",
        id,
        financially_custodied
    )
    .fetch_optional(conn)
    .await
}
