//! The vendor's own operations on accounts: partners, credentials, enabling and disabling.

use crate::{
    crypto, db,
    domain::{self, validate, PartnerType},
    error::{codes, is_constraint, ApiError, ApiResult, Code},
    ledger,
    state::App,
};

pub struct NewPartnerInput {
    pub name: String,
    pub partner_type: PartnerType,
    pub distributor_id: Option<String>,
    pub login_name: String,
    pub password: String,
    pub mobile_phone: Option<String>,
    pub email: Option<String>,
    pub xaccount_type: Option<String>,
    pub sandbox: bool,
    pub account_manager_id: Option<String>,
    pub account_manager_name: Option<String>,
}

pub struct Credentials {
    pub access_key: String,
    pub secret_key: String,
}

pub async fn create_partner(
    app: &App,
    input: NewPartnerInput,
) -> ApiResult<(db::partners::PartnerView, Credentials)> {
    if input.name.trim().is_empty() || input.name.chars().count() > 128 {
        return Err(ApiError::invalid("name", "must be 1 to 128 characters"));
    }
    validate::login_name(&input.login_name)
        .map_err(|why| ApiError::business(codes::LOGIN_NAME_FORMAT, format!("login_name {why}")))?;
    validate::password(
        &input.password,
        &input.login_name,
        input.mobile_phone.as_deref(),
    )
    .map_err(|why| ApiError::business(codes::PASSWORD_FORMAT, format!("password {why}")))?;
    if let Some(m) = input.mobile_phone.as_deref() {
        if !validate::chinese_mobile(m) {
            return Err(ApiError::business(
                codes::MOBILE_FORMAT,
                "mobile_phone is not a Chinese mobile number",
            ));
        }
    }
    if let Some(e) = input.email.as_deref() {
        if !validate::email(e) {
            return Err(ApiError::invalid("email", "must be an e-mail address"));
        }
    }
    let xaccount_type = match input.xaccount_type.as_deref() {
        Some(x) if x.is_empty() || x.len() > 64 => {
            return Err(ApiError::invalid(
                "xaccount_type",
                "must be 1 to 64 characters",
            ))
        }
        Some(x) => x.to_string(),
        None => format!("xat_{}", &domain::new_account_id()[..16]),
    };
    let now = app.now();
    let mut tx = app.db.begin().await?;
    match (input.partner_type, input.distributor_id.as_deref()) {
        (PartnerType::Reseller, Some(d)) => {
            let dist = db::partners::find_partner(&mut tx, d).await?;
            if dist.map(|p| p.partner_type) != Some("distributor".to_string()) {
                return Err(ApiError::invalid(
                    "distributor_id",
                    "must be the id of a distributor",
                ));
            }
        }
        (PartnerType::Reseller, None) => {
            return Err(ApiError::invalid(
                "distributor_id",
                "is required for a reseller",
            ))
        }
        (_, Some(_)) => {
            return Err(ApiError::invalid(
                "distributor_id",
                "is allowed only for a reseller",
            ))
        }
        (_, None) => {}
    }
    if db::accounts::login_name_taken(&mut tx, &input.login_name).await? {
        return Err(ApiError::business(
            codes::LOGIN_NAME_EXISTS,
            "The login name already exists.",
        ));
    }
    let id = domain::new_account_id();
    let pw = input.password.clone();
    let hash = tokio::task::spawn_blocking(move || crypto::hash_password(&pw))
        .await
        .map_err(ApiError::internal)?;
    insert_account(
        &mut tx,
        &db::accounts::NewAccount {
            id: &id,
            kind: "partner",
            login_name: &input.login_name,
            password_hash: Some(&hash),
            mobile_phone: input.mobile_phone.as_deref(),
            email: input.email.as_deref(),
            created_at: now,
        },
    )
    .await?;
    db::partners::insert_partner(
        &mut tx,
        &db::partners::NewPartner {
            account_id: &id,
            name: &input.name,
            partner_type: input.partner_type.as_str(),
            distributor_id: input.distributor_id.as_deref(),
            xaccount_type: &xaccount_type,
            sandbox: input.sandbox,
            account_manager_id: input.account_manager_id.as_deref(),
            account_manager_name: input.account_manager_name.as_deref(),
            associated_on: now,
        },
    )
    .await
    .map_err(|e| {
        if is_constraint(&e, "partner_xaccount_type_key") {
            ApiError::new(
                Code::ParameterInvalid,
                "xaccount_type is already assigned to another partner.",
            )
        } else {
            e.into()
        }
    })?;
    ledger::open_accounts(
        &mut tx,
        &[
            ledger::AccountRef::new(&id, ledger::Purpose::PartnerCash),
            ledger::AccountRef::new(&id, ledger::Purpose::PartnerCredit),
        ],
    )
    .await?;
    let creds = insert_access_key(app, &mut tx, &id).await?;
    let view = db::partners::find_partner_view(&mut tx, &id)
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("partner vanished")))?;
    tx.commit().await?;
    Ok((view, creds))
}

pub(crate) async fn insert_access_key(
    app: &App,
    conn: &mut sqlx::PgConnection,
    account_id: &str,
) -> ApiResult<Credentials> {
    let access_key = domain::new_access_key();
    let secret_key = domain::new_secret_key();
    let (nonce, ct) = app.secrets.seal(&secret_key);
    db::accounts::insert_access_key(conn, &access_key, account_id, &nonce, &ct, app.now()).await?;
    Ok(Credentials {
        access_key,
        secret_key,
    })
}

/// Inserts an account; a taken login name (case-insensitive) is CBC.99000038.
pub(crate) async fn insert_account(
    conn: &mut sqlx::PgConnection,
    new: &db::accounts::NewAccount<'_>,
) -> ApiResult<()> {
    db::accounts::insert_account(conn, new).await.map_err(|e| {
        if is_constraint(&e, "account_login_name_key") {
            ApiError::business(codes::LOGIN_NAME_EXISTS, "The login name already exists.")
        } else {
            e.into()
        }
    })
}

fn no_account() -> ApiError {
    ApiError::business("CBC.99000047", "The account does not exist.")
}

/// A new AK/SK pair for any account, partner or customer.
pub async fn create_access_key(app: &App, account_id: &str) -> ApiResult<Credentials> {
    let mut tx = app.db.begin().await?;
    db::accounts::find_account(&mut tx, account_id)
        .await?
        .ok_or_else(no_account)?;
    let creds = insert_access_key(app, &mut tx, account_id).await?;
    tx.commit().await?;
    Ok(creds)
}

pub async fn set_account_status(app: &App, account_id: &str, active: bool) -> ApiResult<()> {
    let mut conn = app.db.acquire().await?;
    let status = if active { "active" } else { "disabled" };
    if !db::accounts::update_account_status(&mut conn, account_id, status).await? {
        return Err(no_account());
    }
    Ok(())
}

pub async fn set_access_key_status(app: &App, access_key: &str, active: bool) -> ApiResult<()> {
    let mut conn = app.db.acquire().await?;
    let status = if active { "active" } else { "disabled" };
    if !db::accounts::update_access_key_status(&mut conn, access_key, status).await? {
        return Err(ApiError::business(
            "CBC.99000047",
            "The access key does not exist.",
        ));
    }
    Ok(())
}

pub async fn find_partner(app: &App, id: &str) -> ApiResult<db::partners::PartnerView> {
    let mut conn = app.db.acquire().await?;
    db::partners::find_partner_view(&mut conn, id)
        .await?
        .ok_or_else(no_account)
}

pub async fn list_partners(
    app: &App,
    offset: i64,
    limit: i64,
) -> ApiResult<(i64, Vec<db::partners::PartnerView>)> {
    let mut conn = app.db.acquire().await?;
    Ok(db::partners::list_partner_views(&mut conn, offset, limit).await?)
}

/// The vendor-set flags of a partner; `None` leaves a flag unchanged.
#[derive(Debug, Clone, Copy, Default)]
pub struct PartnerFlags {
    pub restricted: Option<bool>,
    pub sandbox: Option<bool>,
    pub exited: Option<bool>,
    /// "Partner coupon usage" mode: the partner cannot issue vouchers (CBC.50000010).
    pub coupon_usage_mode: Option<bool>,
}

pub async fn update_partner_flags(
    app: &App,
    id: &str,
    f: PartnerFlags,
) -> ApiResult<db::partners::PartnerView> {
    let mut conn = app.db.acquire().await?;
    if !db::partners::update_partner_flags(
        &mut conn,
        id,
        f.restricted,
        f.sandbox,
        f.exited,
        f.coupon_usage_mode,
    )
    .await?
    {
        return Err(no_account());
    }
    db::partners::find_partner_view(&mut conn, id)
        .await?
        .ok_or_else(no_account)
}

/// The vendor-set flags of a customer: a financially-custodied enterprise sub-account cannot
/// receive partner coupons (CBC.50000034). Returns the flag now set.
pub async fn update_customer_flags(
    app: &App,
    id: &str,
    financially_custodied: Option<bool>,
) -> ApiResult<bool> {
    let mut conn = app.db.acquire().await?;
    db::customers::update_customer_flags(&mut conn, id, financially_custodied)
        .await?
        .ok_or_else(no_account)
}

pub async fn list_access_keys(
    app: &App,
    account_id: &str,
) -> ApiResult<Vec<db::accounts::AccessKeyInfo>> {
    let mut conn = app.db.acquire().await?;
    db::accounts::find_account(&mut conn, account_id)
        .await?
        .ok_or_else(no_account)?;
    Ok(db::accounts::list_access_keys(&mut conn, account_id).await?)
}

/// Records that a partner reported ("报备") a mobile number: no other partner may register it.
pub async fn report_registration(app: &App, partner_id: &str, mobile: &str) -> ApiResult<()> {
    if !validate::chinese_mobile(mobile) {
        return Err(ApiError::business(
            codes::MOBILE_FORMAT,
            "mobile_phone is not a Chinese mobile number",
        ));
    }
    let mut conn = app.db.acquire().await?;
    db::partners::find_partner(&mut conn, partner_id)
        .await?
        .ok_or_else(no_account)?;
    if !db::partners::insert_registration_report(&mut conn, mobile, partner_id, app.now()).await? {
        return Err(ApiError::new(
            Code::ParameterInvalid,
            "The mobile number is already reported.",
        ));
    }
    Ok(())
}
