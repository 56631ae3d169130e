//! SMS verification codes: issuing with per-number rate limits, and checking.

use chrono::Duration;

use crate::{
    crypto, db,
    error::{codes, ApiError, ApiResult},
    service::{auth::PartnerCaller, sms::SmsMessage},
    state::App,
};

pub const SCENE_REGISTRATION: i32 = 29;
pub const SCENE_BANK_CARD: i32 = 18;
pub const PER_HOUR: i64 = 15;
pub const PER_DAY: i64 = 60;
pub const MAX_FAILED_ATTEMPTS: i32 = 3;

pub struct SendCode {
    pub mobile_phone: String,
    pub timeout_minutes: i64,
    pub lang: String,
    pub scene: i32,
    pub customer_id: Option<String>,
}

pub async fn send_code(app: &App, caller: &PartnerCaller, req: SendCode) -> ApiResult<()> {
    let now = app.now();
    let code = crypto::verification_code();
    let mut tx = app.db.begin().await?;
    if let Some(customer_id) = req.customer_id.as_deref() {
        let owned = db::customers::find_customer(&mut tx, customer_id)
            .await?
            .is_some_and(|c| c.partner_id.as_deref() == Some(caller.account_id.as_str()));
        if !owned {
            return Err(ApiError::business(
                codes::NOT_SUB_CUSTOMER,
                "The customer is not your sub-customer.",
            ));
        }
    }
    db::verification::lock_mobile(&mut tx, &req.mobile_phone).await?;
    let last_hour =
        db::verification::count_sent_since(&mut tx, &req.mobile_phone, now - Duration::hours(1))
            .await?;
    let last_day =
        db::verification::count_sent_since(&mut tx, &req.mobile_phone, now - Duration::days(1))
            .await?;
    if last_hour >= PER_HOUR || last_day >= PER_DAY {
        return Err(ApiError::business(
            codes::CODE_SEND_LIMIT,
            "The verification code sending limit is reached (15 per hour, 60 per day).",
        ));
    }
    db::verification::insert_code(
        &mut tx,
        &db::verification::NewCode {
            mobile_phone: &req.mobile_phone,
            scene: req.scene,
            customer_id: req.customer_id.as_deref(),
            code: &code,
            lang: &req.lang,
            requested_by: &caller.account_id,
            created_at: now,
            expires_at: now + Duration::minutes(req.timeout_minutes),
        },
    )
    .await?;
    tx.commit().await?;
    let msg = SmsMessage {
        mobile_phone: &req.mobile_phone,
        code: &code,
        lang: &req.lang,
        scene: req.scene,
        expires_in_minutes: req.timeout_minutes,
    };
    app.sms.send(&msg).await.map_err(|why| {
        tracing::warn!(%why, "verification code could not be sent");
        ApiError::business(
            codes::CODE_SEND_FAILED,
            "The verification code was generated but could not be sent.",
        )
    })
}

/// Checks a code without consuming it; a wrong code counts as a failed attempt (committed even
/// though the caller's request fails). Returns the code's id for [`consume`].
pub async fn check_code(app: &App, mobile: &str, scene: i32, given: &str) -> ApiResult<i64> {
    check_code_for(app, mobile, scene, None, given).await
}

/// [`check_code`] for a code requested for one customer (scene 18).
pub async fn check_code_for(
    app: &App,
    mobile: &str,
    scene: i32,
    customer_id: Option<&str>,
    given: &str,
) -> ApiResult<i64> {
    let wrong = || ApiError::business(codes::CODE_WRONG, "The verification code is wrong.");
    let mut tx = app.db.begin().await?;
    let Some(row) = db::verification::lock_latest_code(&mut tx, mobile, scene, customer_id).await?
    else {
        return Err(wrong());
    };
    if row.failed_attempts >= MAX_FAILED_ATTEMPTS {
        return Err(ApiError::business(
            codes::CODE_TOO_MANY_FAILURES,
            "The verification code failed more than 3 times; request a new one.",
        ));
    }
    if row.expires_at <= app.now() {
        return Err(ApiError::business(
            codes::CODE_EXPIRED,
            "The verification code has expired.",
        ));
    }
    if !crate::signing::signatures_match(&row.code, given) {
        db::verification::record_failed_attempt(&mut tx, row.id).await?;
        tx.commit().await?;
        return Err(wrong());
    }
    Ok(row.id)
}

/// Consumes a checked code inside the caller's transaction.
pub async fn consume(app: &App, conn: &mut sqlx::PgConnection, id: i64) -> ApiResult<()> {
    if !db::verification::consume_code(conn, id, app.now()).await? {
        return Err(ApiError::business(
            codes::CODE_WRONG,
            "The verification code is wrong.",
        ));
    }
    Ok(())
}

/// The codes sent to a number, newest first (for the vendor, with the development sender).
pub async fn list_codes(app: &App, mobile: &str) -> ApiResult<Vec<db::verification::CodeRow>> {
    let mut conn = app.db.acquire().await?;
    Ok(db::verification::list_codes(&mut conn, mobile).await?)
}
