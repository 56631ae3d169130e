use chrono::{DateTime, Utc};
use sqlx::PgConnection;

#[derive(Debug, Clone)]
pub struct PartnerRow {
    pub account_id: String,
    pub name: String,
    pub partner_type: String,
    pub distributor_id: Option<String>,
    pub xaccount_type: String,
    pub restricted: bool,
    pub sandbox: bool,
    pub exited: bool,
    pub coupon_usage_mode: bool,
    pub account_manager_id: Option<String>,
    pub account_manager_name: Option<String>,
    pub associated_on: DateTime<Utc>,
}

pub async fn find_partner(conn: &mut PgConnection, id: &str) -> sqlx::Result<Option<PartnerRow>> {
    sqlx::query_as!(
        PartnerRow,
        "select account_id, name, partner_type, distributor_id, xaccount_type, restricted, sandbox,
                exited, coupon_usage_mode, account_manager_id, account_manager_name, associated_on
         from partner where account_id = $1",
        id
    )
    .fetch_optional(conn)
    .await
}

pub struct NewPartner<'a> {
    pub account_id: &'a str,
    pub name: &'a str,
    pub partner_type: &'a str,
    pub distributor_id: Option<&'a str>,
    pub xaccount_type: &'a str,
    pub sandbox: bool,
    pub account_manager_id: Option<&'a str>,
    pub account_manager_name: Option<&'a str>,
    pub associated_on: DateTime<Utc>,
}

pub async fn insert_partner(conn: &mut PgConnection, p: &NewPartner<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into partner (account_id, name, partner_type, distributor_id, xaccount_type, sandbox,
                              account_manager_id, account_manager_name, associated_on)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        p.account_id,
        p.name,
        p.partner_type,
        p.distributor_id,
        p.xaccount_type,
        p.sandbox,
        p.account_manager_id,
        p.account_manager_name,
        p.associated_on
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update_partner_flags(
    conn: &mut PgConnection,
    id: &str,
    restricted: Option<bool>,
    sandbox: Option<bool>,
    exited: Option<bool>,
    coupon_usage_mode: Option<bool>,
) -> sqlx::Result<bool> {
    let r = sqlx::query!(
        "update partner set restricted = coalesce($2, restricted), sandbox = coalesce($3, sandbox),
                            exited = coalesce($4, exited),
                            coupon_usage_mode = coalesce($5, coupon_usage_mode)
         where account_id = $1",
        id,
        restricted,
        sandbox,
        exited,
        coupon_usage_mode
    )
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// A partner joined with its account, for the admin API.
#[derive(Debug, Clone)]
pub struct PartnerView {
    pub account_id: String,
    pub login_name: String,
    pub status: String,
    pub mobile_phone: Option<String>,
    pub email: Option<String>,
    pub created_at: DateTime<Utc>,
    pub name: String,
    pub partner_type: String,
    pub distributor_id: Option<String>,
    pub xaccount_type: String,
    pub restricted: bool,
    pub sandbox: bool,
    pub exited: bool,
    pub coupon_usage_mode: bool,
    pub account_manager_id: Option<String>,
    pub account_manager_name: Option<String>,
    pub associated_on: DateTime<Utc>,
}

pub async fn find_partner_view(
    conn: &mut PgConnection,
    id: &str,
) -> sqlx::Result<Option<PartnerView>> {
    sqlx::query_as!(
        PartnerView,
        "select a.id as account_id, a.login_name, a.status, a.mobile_phone, a.email, a.created_at,
                p.name, p.partner_type, p.distributor_id, p.xaccount_type, p.restricted, p.sandbox,
                p.exited, p.coupon_usage_mode, p.account_manager_id, p.account_manager_name, p.associated_on
         from partner p join account a on a.id = p.account_id
         where p.account_id = $1",
        id
    )
    .fetch_optional(conn)
    .await
}

pub async fn list_partner_views(
    conn: &mut PgConnection,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<PartnerView>)> {
    let total = sqlx::query_scalar!(r#"select count(*) as "n!" from partner"#)
        .fetch_one(&mut *conn)
        .await?;
    let rows = sqlx::query_as!(
        PartnerView,
        "select a.id as account_id, a.login_name, a.status, a.mobile_phone, a.email, a.created_at,
                p.name, p.partner_type, p.distributor_id, p.xaccount_type, p.restricted, p.sandbox,
                p.exited, p.coupon_usage_mode, p.account_manager_id, p.account_manager_name, p.associated_on
         from partner p join account a on a.id = p.account_id
         order by a.created_at, a.id
         offset $1 limit $2",
        offset,
        limit
    )
    .fetch_all(conn)
    .await?;
    Ok((total, rows))
}

/// Filters of list-indirect-partners; `None` means "no filter".
pub struct ResellerFilter<'a> {
    pub account_name: Option<&'a str>,
    pub associated_on_begin: Option<DateTime<Utc>>,
    pub associated_on_end: Option<DateTime<Utc>>,
    pub reseller_id: Option<&'a str>,
}

pub async fn list_resellers(
    conn: &mut PgConnection,
    distributor_id: &str,
    f: &ResellerFilter<'_>,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<PartnerView>)> {
    let total = sqlx::query_scalar!(
        r#"select count(*) as "n!" from partner p join account a on a.id = p.account_id
           where p.distributor_id = $1
             and ($2::text is null or lower(a.login_name) = lower($2))
             and ($3::timestamptz is null or p.associated_on >= $3)
             and ($4::timestamptz is null or p.associated_on <= $4)
             and ($5::text is null or p.account_id = $5)"#,
        distributor_id,
        f.account_name,
        f.associated_on_begin,
        f.associated_on_end,
        f.reseller_id
    )
    .fetch_one(&mut *conn)
    .await?;
    let rows = sqlx::query_as!(
        PartnerView,
        "select a.id as account_id, a.login_name, a.status, a.mobile_phone, a.email, a.created_at,
                p.name, p.partner_type, p.distributor_id, p.xaccount_type, p.restricted, p.sandbox,
                p.exited, p.coupon_usage_mode, p.account_manager_id, p.account_manager_name, p.associated_on
         from partner p join account a on a.id = p.account_id
         where p.distributor_id = $1
           and ($2::text is null or lower(a.login_name) = lower($2))
           and ($3::timestamptz is null or p.associated_on >= $3)
           and ($4::timestamptz is null or p.associated_on <= $4)
           and ($5::text is null or p.account_id = $5)
         order by p.associated_on desc, p.account_id desc
         offset $6 limit $7",
        distributor_id,
        f.account_name,
        f.associated_on_begin,
        f.associated_on_end,
        f.reseller_id,
        offset,
        limit
    )
    .fetch_all(conn)
    .await?;
    Ok((total, rows))
}

/// Which partner reported ("报备") this mobile number, if any.
pub async fn find_registration_report(
    conn: &mut PgConnection,
    mobile: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(
        "select partner_id from registration_report where mobile_phone = $1",
        mobile
    )
    .fetch_optional(conn)
    .await
}

pub async fn insert_registration_report(
    conn: &mut PgConnection,
    mobile: &str,
    partner_id: &str,
    at: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let r = sqlx::query!(
        "insert into registration_report (mobile_phone, partner_id, created_at) values ($1, $2, $3)
         on conflict (mobile_phone) do nothing",
        mobile,
        partner_id,
        at
    )
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}
