use chrono::{DateTime, Utc};
use sqlx::PgConnection;

#[derive(Debug, Clone)]
pub struct AccountRow {
    pub id: String,
    pub kind: String,
    pub login_name: String,
    pub password_hash: Option<String>,
    pub mobile_phone: Option<String>,
    pub email: Option<String>,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

pub async fn find_account(conn: &mut PgConnection, id: &str) -> sqlx::Result<Option<AccountRow>> {
    sqlx::query_as!(
        AccountRow,
        "select id, kind, login_name, password_hash, mobile_phone, email, status, created_at
         from account where id = $1",
        id
    )
    .fetch_optional(conn)
    .await
}

pub async fn find_account_by_login(
    conn: &mut PgConnection,
    login_name: &str,
) -> sqlx::Result<Option<AccountRow>> {
    sqlx::query_as!(
        AccountRow,
        "select id, kind, login_name, password_hash, mobile_phone, email, status, created_at
         from account where lower(login_name) = lower($1)",
        login_name
    )
    .fetch_optional(conn)
    .await
}

pub struct NewAccount<'a> {
    pub id: &'a str,
    pub kind: &'a str,
    pub login_name: &'a str,
    pub password_hash: Option<&'a str>,
    pub mobile_phone: Option<&'a str>,
    pub email: Option<&'a str>,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_account(conn: &mut PgConnection, a: &NewAccount<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into account (id, kind, login_name, password_hash, mobile_phone, email, created_at)
         values ($1, $2, $3, $4, $5, $6, $7)",
        a.id,
        a.kind,
        a.login_name,
        a.password_hash,
        a.mobile_phone,
        a.email,
        a.created_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update_account_status(
    conn: &mut PgConnection,
    id: &str,
    status: &str,
) -> sqlx::Result<bool> {
    let r = sqlx::query!("update account set status = $2 where id = $1", id, status)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn login_name_taken(conn: &mut PgConnection, login_name: &str) -> sqlx::Result<bool> {
    let r = sqlx::query_scalar!(
        r#"select exists(select 1 from account where lower(login_name) = lower($1)) as "e!""#,
        login_name
    )
    .fetch_one(conn)
    .await?;
    Ok(r)
}

pub async fn email_taken(conn: &mut PgConnection, email: &str) -> sqlx::Result<bool> {
    let r = sqlx::query_scalar!(
        r#"select exists(select 1 from account where lower(email) = lower($1)) as "e!""#,
        email
    )
    .fetch_one(conn)
    .await?;
    Ok(r)
}

/// How many customer accounts were registered with this mobile number.
pub async fn count_customers_with_mobile(
    conn: &mut PgConnection,
    mobile: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from account where kind = 'customer' and mobile_phone = $1"#,
        mobile
    )
    .fetch_one(conn)
    .await
}

/// An access key with everything needed to turn it into a caller (one round trip per request).
#[derive(Debug)]
pub struct AccessKeyRow {
    pub secret_nonce: Vec<u8>,
    pub secret_ciphertext: Vec<u8>,
    pub status: String,
    pub id: String,
    pub kind: String,
    pub login_name: String,
    pub account_status: String,
    pub partner_type: Option<String>,
    pub distributor_id: Option<String>,
    pub xaccount_type: Option<String>,
    pub restricted: Option<bool>,
    pub sandbox: Option<bool>,
    pub customer_partner_id: Option<String>,
}

impl AccessKeyRow {
    pub fn into_caller_row(self) -> CallerRow {
        CallerRow {
            id: self.id,
            kind: self.kind,
            login_name: self.login_name,
            status: self.account_status,
            partner_type: self.partner_type,
            distributor_id: self.distributor_id,
            xaccount_type: self.xaccount_type,
            restricted: self.restricted,
            sandbox: self.sandbox,
            customer_partner_id: self.customer_partner_id,
        }
    }
}

pub async fn find_access_key(
    conn: &mut PgConnection,
    access_key: &str,
) -> sqlx::Result<Option<AccessKeyRow>> {
    sqlx::query_as!(
        AccessKeyRow,
        r#"select k.secret_nonce, k.secret_ciphertext, k.status,
                  a.id, a.kind, a.login_name, a.status as account_status,
                  p.partner_type as "partner_type?", p.distributor_id as "distributor_id?",
                  p.xaccount_type as "xaccount_type?", p.restricted as "restricted?",
                  p.sandbox as "sandbox?", c.partner_id as "customer_partner_id?"
           from access_key k join account a on a.id = k.account_id
                left join partner p on p.account_id = a.id
                left join customer c on c.account_id = a.id
           where k.access_key = $1"#,
        access_key
    )
    .fetch_optional(conn)
    .await
}

pub async fn insert_access_key(
    conn: &mut PgConnection,
    access_key: &str,
    account_id: &str,
    nonce: &[u8],
    ciphertext: &[u8],
    created_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into access_key (access_key, account_id, secret_nonce, secret_ciphertext, created_at)
         values ($1, $2, $3, $4, $5)",
        access_key,
        account_id,
        nonce,
        ciphertext,
        created_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update_access_key_status(
    conn: &mut PgConnection,
    access_key: &str,
    status: &str,
) -> sqlx::Result<bool> {
    let r = sqlx::query!(
        "update access_key set status = $2 where access_key = $1",
        access_key,
        status
    )
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

#[derive(Debug)]
pub struct AccessKeyInfo {
    pub access_key: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

pub async fn list_access_keys(
    conn: &mut PgConnection,
    account_id: &str,
) -> sqlx::Result<Vec<AccessKeyInfo>> {
    sqlx::query_as!(
        AccessKeyInfo,
        "select access_key, status, created_at from access_key where account_id = $1
         order by created_at, access_key",
        account_id
    )
    .fetch_all(conn)
    .await
}

/// The account's token version (moved on by a password change or a disable); `None` when there
/// is no such account.
pub async fn token_version(conn: &mut PgConnection, id: &str) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("select token_version from account where id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub async fn update_password_hash(
    conn: &mut PgConnection,
    id: &str,
    hash: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update account set password_hash = $2 where id = $1",
        id,
        hash
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// An account with its partner row when it is a partner (one round trip for the common caller).
#[derive(Debug, Clone)]
pub struct CallerRow {
    pub id: String,
    pub kind: String,
    pub login_name: String,
    pub status: String,
    pub partner_type: Option<String>,
    pub distributor_id: Option<String>,
    pub xaccount_type: Option<String>,
    pub restricted: Option<bool>,
    pub sandbox: Option<bool>,
    /// A customer's partner (none when unassociated or not a customer).
    pub customer_partner_id: Option<String>,
}

pub async fn find_caller_row(conn: &mut PgConnection, id: &str) -> sqlx::Result<Option<CallerRow>> {
    sqlx::query_as!(
        CallerRow,
        r#"select a.id, a.kind, a.login_name, a.status,
                  p.partner_type as "partner_type?", p.distributor_id as "distributor_id?",
                  p.xaccount_type as "xaccount_type?", p.restricted as "restricted?",
                  p.sandbox as "sandbox?", c.partner_id as "customer_partner_id?"
           from account a left join partner p on p.account_id = a.id
                left join customer c on c.account_id = a.id
           where a.id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await
}
