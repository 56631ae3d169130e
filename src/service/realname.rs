//! Real-name authentication: partners submit for their customers, the vendor reviews.

use crate::{
    db::{self, lifecycle::ApplicationRow},
    error::{codes, ApiError, ApiResult, Code},
    service::{auth::PartnerCaller, organisation, partners, verification},
    state::App,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Individual,
    Enterprise,
    ChangeToEnterprise,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Individual => "individual",
            Kind::Enterprise => "enterprise",
            Kind::ChangeToEnterprise => "change_to_enterprise",
        }
    }
}

/// A validated application.
pub struct Application {
    pub kind: Kind,
    pub customer_id: String,
    pub identify_type: i32,
    pub name: String,
    pub verified_number: String,
    pub xaccount_type: String,
    /// (mobile, code) of a bank-card application, checked against a scene-18 code.
    pub bank_card_code: Option<(String, String)>,
    pub details: serde_json::Value,
}

fn not_your_customer() -> ApiError {
    ApiError::business(
        codes::CUSTOMER_NOT_FOUND,
        "The partner's customer does not exist.",
    )
}

/// Submits an application; every submission waits for the vendor's review (`is_review` = 1).
pub async fn apply(app: &App, caller: &PartnerCaller, a: Application) -> ApiResult<i32> {
    if a.xaccount_type != caller.xaccount_type {
        return Err(ApiError::new(
            Code::ParameterInvalid,
            "Invalid parameter: xaccount_type is not the platform identifier assigned to this partner.",
        ));
    }
    let code_id = match &a.bank_card_code {
        Some((mobile, code)) => Some(
            verification::check_code_for(
                app,
                mobile,
                verification::SCENE_BANK_CARD,
                Some(&a.customer_id),
                code,
            )
            .await?,
        ),
        None => None,
    };
    let mut tx = app.db.begin().await?;
    let c = db::lifecycle::lock_partner_customer(&mut tx, &caller.account_id, &a.customer_id)
        .await?
        .ok_or_else(not_your_customer)?;
    organisation::ensure_in_scope(&mut tx, caller, &caller.account_id, &a.customer_id)
        .await
        .map_err(|_| not_your_customer())?;
    match a.kind {
        Kind::Individual | Kind::Enterprise if c.verified_status == "2" => {
            return Err(ApiError::new(
                Code::ParameterInvalid,
                "The customer is already real-name verified.",
            ))
        }
        Kind::ChangeToEnterprise if !(c.verified_status == "2" && c.customer_type == 0) => {
            return Err(ApiError::new(
                Code::ParameterInvalid,
                "Only a customer verified as an individual can change to an enterprise.",
            ))
        }
        _ => {}
    }
    if db::lifecycle::latest_application(&mut tx, &a.customer_id)
        .await?
        .is_some_and(|x| x.status == "reviewing")
    {
        return Err(ApiError::new(
            Code::ParameterInvalid,
            "An application for this customer is under review.",
        ));
    }
    if let Some(id) = code_id {
        verification::consume(app, &mut tx, id).await?;
    }
    db::lifecycle::insert_application(
        &mut tx,
        &db::lifecycle::NewApplication {
            customer_id: &a.customer_id,
            partner_id: &caller.account_id,
            kind: a.kind.as_str(),
            identify_type: a.identify_type,
            name: &a.name,
            verified_number: &a.verified_number,
            details: a.details,
            submitted_at: app.now(),
        },
    )
    .await?;
    if a.kind != Kind::ChangeToEnterprise {
        db::lifecycle::set_verified_status(&mut tx, &a.customer_id, "0").await?;
    }
    tx.commit().await?;
    Ok(1)
}

/// The latest application's review state, for the customer's partner (or a distributor's reseller).
pub async fn review_result(
    app: &App,
    caller: &PartnerCaller,
    customer_id: &str,
) -> ApiResult<Option<ApplicationRow>> {
    let mut conn = app.db.acquire().await?;
    let owner = db::customers::find_customer(&mut conn, customer_id)
        .await?
        .and_then(|c| c.partner_id);
    let allowed = match owner.as_deref() {
        Some(p) if p == caller.account_id => true,
        Some(p) if caller.is_distributor() => partners::resolve_acting(&mut conn, caller, Some(p))
            .await
            .is_ok(),
        _ => false,
    };
    if !allowed {
        return Err(not_your_customer());
    }
    if let Some(p) = owner.as_deref() {
        organisation::ensure_in_scope(&mut conn, caller, p, customer_id)
            .await
            .map_err(|_| not_your_customer())?;
    }
    Ok(db::lifecycle::latest_application(&mut conn, customer_id).await?)
}

pub struct OwnStatus {
    pub verified_status: i32,
    pub verified_type: Option<i32>,
}

/// A customer's own real-name status.
pub async fn own_status(app: &App, customer_id: &str) -> ApiResult<OwnStatus> {
    let mut conn = app.db.acquire().await?;
    let c = db::customers::find_customer_detail(&mut conn, customer_id)
        .await?
        .ok_or_else(not_your_customer)?;
    let status: i32 = c.verified_status.parse().unwrap_or(-1);
    Ok(OwnStatus {
        verified_status: status,
        verified_type: (status != -1 && c.customer_type >= 0).then_some(c.customer_type.into()),
    })
}

pub async fn list_applications(
    app: &App,
    status: Option<&str>,
    offset: i64,
    limit: i64,
) -> ApiResult<(i64, Vec<ApplicationRow>)> {
    let mut conn = app.db.acquire().await?;
    Ok(db::lifecycle::list_applications(&mut conn, status, offset, limit).await?)
}

/// The vendor approves or rejects an application under review.
pub async fn review(
    app: &App,
    id: i64,
    approved: bool,
    opinion: Option<&str>,
) -> ApiResult<ApplicationRow> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let a = db::lifecycle::lock_application(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::business("CBC.99000047", "The application does not exist."))?;
    if a.status != "reviewing" {
        return Err(ApiError::new(
            Code::ParameterInvalid,
            "The application was already reviewed.",
        ));
    }
    if approved {
        let customer_type = if a.kind == "individual" { 0 } else { 1 };
        db::lifecycle::set_verified(&mut tx, &a.customer_id, customer_type, &a.name, now).await?;
        db::lifecycle::finish_review(&mut tx, id, "approved", None, now).await?;
    } else {
        let opinion = opinion
            .filter(|o| !o.is_empty())
            .ok_or_else(|| ApiError::invalid("opinion", "is required when rejecting"))?;
        if a.kind != "change_to_enterprise" {
            db::lifecycle::set_verified_status(&mut tx, &a.customer_id, "1").await?;
        }
        db::lifecycle::finish_review(&mut tx, id, "rejected", Some(opinion), now).await?;
    }
    crate::service::events::realname_reviewed(&mut tx, &a, approved, opinion, now).await?;
    let done = db::lifecycle::lock_application(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("application vanished")))?;
    tx.commit().await?;
    Ok(done)
}

/// How long a face-verification QR code stays valid.
pub const QR_CODE_TTL_MINUTES: i64 = 10;

/// A single-use face-verification QR code for the calling customer's own real-name flow; returns
/// its token. A verified customer needs none.
pub async fn qr_code(app: &App, customer_id: &str) -> ApiResult<String> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let c = db::customers::find_customer_detail(&mut tx, customer_id)
        .await?
        .ok_or_else(not_your_customer)?;
    if c.verified_status == "2" {
        return Err(ApiError::new(
            Code::ParameterInvalid,
            "The customer is already real-name verified.",
        ));
    }
    let token = uuid::Uuid::new_v4().simple().to_string();
    db::lifecycle::insert_qr_code(
        &mut tx,
        &token,
        customer_id,
        now,
        now + chrono::Duration::minutes(QR_CODE_TTL_MINUTES),
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// The phone scans a QR code: valid once, within its 10 minutes.
pub async fn scan_qr_code(app: &App, token: &str) -> ApiResult<String> {
    let mut conn = app.db.acquire().await?;
    db::lifecycle::scan_qr_code(&mut conn, token, app.now())
        .await?
        .ok_or_else(|| {
            ApiError::new(
                Code::ParameterInvalid,
                "The QR code is invalid, already scanned or expired.",
            )
        })
}
