//! The one error type of the API. Status and `CBC.*` code come from one function ([`Code::status`]);
//! the body is the vendor's `{"error_code", "error_msg"}` (plus `request_id`, added by the
//! error-envelope middleware that knows the request id).

use std::borrow::Cow;

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};

/// Every error code this server answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// 400 parameter error: missing, wrong type, out of range, bad format.
    InvalidParameter,
    /// 400 parameter syntactically fine but semantically invalid.
    ParameterInvalid,
    /// 403 illegal operation.
    IllegalOperation,
    /// 403 access denied: wrong caller kind or missing permission.
    AccessDenied,
    /// 401 token invalid or expired.
    TokenInvalid,
    /// 401 bad AK/SK authentication information.
    SignatureInvalid,
    /// 404 no such route.
    NotFound,
    /// 405 method not allowed on this route.
    MethodNotAllowed,
    /// 413 request body too large.
    PayloadTooLarge,
    /// 429 flow control.
    RateLimited,
    /// 408 the request (headers or body) did not arrive in time.
    RequestTimeout,
    /// 500 other error; says nothing internal.
    Internal,
    /// 503 database not reachable (readiness).
    Unavailable,
    /// 409 a request with the same Idempotency-Key is still being processed.
    RequestInProgress,
    /// 422 an Idempotency-Key reused with a different request.
    IdempotencyKeyReused,
    /// 412 `If-Match` names an older version of the resource.
    PreconditionFailed,
    /// 428 an update without `If-Match`.
    PreconditionRequired,
    /// A business code answered with HTTP 400.
    Business(&'static str),
    /// A business code answered with HTTP 403 (assume-role tokens without an authorisation or
    /// outside its scope).
    Forbidden(&'static str),
}

impl Code {
    pub fn status(self) -> StatusCode {
        match self {
            Code::InvalidParameter | Code::ParameterInvalid | Code::Business(_) => {
                StatusCode::BAD_REQUEST
            }
            Code::IllegalOperation | Code::AccessDenied | Code::Forbidden(_) => {
                StatusCode::FORBIDDEN
            }
            Code::TokenInvalid | Code::SignatureInvalid => StatusCode::UNAUTHORIZED,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Code::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Code::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Code::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Code::RequestInProgress => StatusCode::CONFLICT,
            Code::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Code::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Code::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Code::InvalidParameter => "CBC.0100",
            Code::ParameterInvalid => "CBC.0101",
            Code::IllegalOperation => "CBC.0150",
            Code::AccessDenied => "CBC.0151",
            Code::TokenInvalid => "CBC.0154",
            Code::SignatureInvalid => "APIG.0301",
            Code::NotFound => "APIG.0101",
            Code::MethodNotAllowed | Code::PayloadTooLarge | Code::RequestTimeout => "CBC.0100",
            Code::RateLimited => "CBC.0250",
            Code::Internal | Code::Unavailable => "CBC.0999",
            // The vendor's "unfinished fund/reclaim task exists; retry later".
            Code::RequestInProgress => "CBC.99007461",
            Code::IdempotencyKeyReused => "CBC.0101",
            Code::PreconditionFailed => "CBC.99012004",
            Code::PreconditionRequired => "CBC.99012005",
            Code::Business(code) | Code::Forbidden(code) => code,
        }
    }
}

impl Code {
    /// The code a stored (replayed) error body names; `None` for codes this server never stores.
    pub fn from_wire(code: &str) -> Option<Code> {
        Some(match code {
            "CBC.0100" => Code::InvalidParameter,
            "CBC.0101" => Code::ParameterInvalid,
            "CBC.0150" => Code::IllegalOperation,
            "CBC.0151" => Code::AccessDenied,
            other => Code::Business(codes::ALL.iter().copied().find(|c| *c == other)?),
        })
    }
}

/// Business codes (HTTP 400 unless the table in `Code::status` says otherwise).
pub mod codes {
    pub const NO_CUSTOMER_PERMISSION: &str = "CBC.99000000";
    pub const LOGIN_NAME_FORMAT: &str = "CBC.99000031";
    pub const MOBILE_FORMAT: &str = "CBC.5017";
    pub const MOBILE_EXISTS: &str = "CBC.99000029";
    pub const MOBILE_LIMIT: &str = "CBC.99000030";
    pub const NOT_SUB_CUSTOMER: &str = "CBC.99000035";
    pub const PASSWORD_FORMAT: &str = "CBC.99000036";
    pub const NOT_YOUR_RESELLER: &str = "CBC.99000037";
    pub const LOGIN_NAME_EXISTS: &str = "CBC.99000038";
    pub const XACCOUNT_ID_EXISTS: &str = "CBC.99000039";
    pub const MOBILE_REPORTED: &str = "CBC.99000051";
    pub const CODE_SEND_FAILED: &str = "CBC.99004003";
    pub const CODE_EXPIRED: &str = "CBC.99004008";
    pub const CODE_TOO_MANY_FAILURES: &str = "CBC.99004009";
    pub const CODE_WRONG: &str = "CBC.99004010";
    pub const CODE_SEND_LIMIT: &str = "CBC.99004015";
    pub const SANDBOX_PARTNER: &str = "CBC.99005035";
    pub const DISTRIBUTOR_MAY_NOT_ASSOCIATE: &str = "CBC.50010059";
    pub const DISTRIBUTOR_EXITED: &str = "CBC.50010065";
    pub const PARTNER_RESTRICTED: &str = "CBC.50010085";
    pub const DISTRIBUTOR_RESTRICTED: &str = "CBC.50010086";
    pub const CUSTOMER_NOT_FOUND: &str = "CBC.5002";
    pub const CUSTOMER_AUTHORISATION_FAILED: &str = "CBC.99000004";
    pub const ACCOUNT_FROZEN: &str = "CBC.8214";
    pub const INSUFFICIENT_BALANCE: &str = "CBC.99005003";
    pub const ASSOCIATION_TYPE_NOT_ALLOWED: &str = "CBC.99005024";
    pub const CHANGE_RECORDS_NOT_SUPPORTED: &str = "CBC.99000084";
    pub const ACCOUNT_NOT_FOUND: &str = "CBC.99000047";
    pub const QUOTA_INVALID: &str = "CBC.99000012";
    pub const QUOTA_INSUFFICIENT: &str = "CBC.99000013";
    pub const COUPON_ADVISORY_CUSTOMER: &str = "CBC.99000014";
    pub const QUOTA_OUTSIDE_WINDOW: &str = "CBC.99000017";
    pub const FACE_VALUE_BELOW_MIN: &str = "CBC.99000018";
    pub const FACE_VALUE_ABOVE_MAX: &str = "CBC.99000019";
    pub const TOO_MANY_COUPONS: &str = "CBC.99000020";
    pub const FIRST_ASSOCIATION_ONLY: &str = "CBC.99000022";
    pub const RESTRICTION_EXCEEDS_QUOTA: &str = "CBC.99000023";
    pub const NO_SELF_ISSUE: &str = "CBC.99000025";
    pub const RECLAIM_ADVISORY_COUPON: &str = "CBC.99000045";
    pub const COUPON_NOT_RECLAIMABLE: &str = "CBC.99000048";
    pub const DESIGNATED_CUSTOMERS_ONLY: &str = "CBC.50000020";
    pub const DESIGNATED_NOT_RESELLERS: &str = "CBC.50000021";
    pub const TOTAL_FACE_VALUE_EXCEEDED: &str = "CBC.99000021";
    pub const COUPON_USAGE_MODE: &str = "CBC.50000010";
    pub const FINANCIALLY_CUSTODIED: &str = "CBC.50000034";
    pub const PRODUCT_NOT_FOUND: &str = "CBC.50000054";
    pub const SERVICE_TYPE_NOT_FOUND: &str = "CBC.50000055";
    // Consumption (usage ingestion, fee adjustments, bills).
    pub const RATING_PRODUCT_NOT_FOUND: &str = "CBC.99006006";
    pub const RATING_WRONG_UNIT: &str = "CBC.99006050";
    pub const USAGE_TOO_OLD: &str = "CBC.99006101";
    pub const USAGE_TYPE_NOT_PRICED: &str = "CBC.99006102";
    pub const FEE_RECORD_NOT_FOUND: &str = "CBC.99006103";
    pub const REFUND_EXCEEDS_CHARGE: &str = "CBC.99006104";
    // Selling (issue 12): CBC.99012xxx.
    pub const OPPORTUNITY_NOT_FOUND: &str = "CBC.99012001";
    pub const OPPORTUNITY_STATE: &str = "CBC.99012002";
    pub const ACCEPT_DEADLINE_PASSED: &str = "CBC.99012003";
    pub const LEAD_NOT_FOUND: &str = "CBC.99012006";
    pub const LEAD_CLOSED: &str = "CBC.99012007";
    pub const WARNING_NOT_FOUND: &str = "CBC.99012008";
    pub const WARNING_HANDLED: &str = "CBC.99012009";
    pub const TASK_NOT_FOUND: &str = "CBC.99012010";
    pub const TASK_DONE: &str = "CBC.99012011";
    // Money out (issue 11): CBC.99013xxx.
    pub const RECHARGE_NOT_FOUND: &str = "CBC.99013001";
    pub const RECHARGE_STATE: &str = "CBC.99013002";
    pub const WITHDRAWAL_NOT_FOUND: &str = "CBC.99013003";
    pub const WITHDRAWAL_STATE: &str = "CBC.99013004";
    pub const WITHDRAWAL_EXCEEDS_WITHDRAWABLE: &str = "CBC.99013005";
    pub const REBATE_INVOICE_REQUIRED: &str = "CBC.99013006";
    pub const INVOICE_NOT_FOUND: &str = "CBC.99013007";
    pub const INVOICE_STATE: &str = "CBC.99013008";
    pub const INVOICE_SPECIAL_NEEDS_ENTERPRISE: &str = "CBC.99013009";
    pub const INVOICE_MEDIUM_NOT_ALLOWED: &str = "CBC.99013010";
    pub const ALREADY_INVOICED: &str = "CBC.99013011";
    pub const CYCLE_NOT_POSTED: &str = "CBC.99013012";
    pub const NOTHING_TO_INVOICE: &str = "CBC.99013013";
    pub const ORDER_NOT_FOUND: &str = "CBC.99013014";
    pub const REPAYMENT_EXCEEDS_USED_CREDIT: &str = "CBC.99013015";
    pub const INVOICE_TAX_ID_REQUIRED: &str = "CBC.99013016";
    // Customer authorisations, assume-role tokens, the sandbox clock (issue 10): CBC.99014xxx.
    pub const AUTHORIZATION_NOT_FOUND: &str = "CBC.99014001";
    pub const AUTHORIZATION_OPEN_EXISTS: &str = "CBC.99014002";
    pub const AUTHORIZATION_NOT_PENDING: &str = "CBC.99014003";
    pub const AUTHORIZATION_NOT_REVOCABLE: &str = "CBC.99014004";
    /// 403: no approved, unexpired authorisation behind an assume-role request or token.
    pub const NO_AUTHORIZATION: &str = "CBC.99014005";
    /// 403: the route is outside the assume-role token's authorised scope.
    pub const OUTSIDE_AUTHORIZED_SCOPE: &str = "CBC.99014006";
    pub const CLOCK_BACKWARDS: &str = "CBC.99014010";
    // Orders and resources (50-other.md §A, §B).
    pub const INVALID_ORDER: &str = "CBC.30000010";
    pub const ORDER_STATE_CHANGED: &str = "CBC.99003106";
    pub const PAYMENT_IN_PROGRESS: &str = "CBC.99000088";
    /// A sub-order of a combined transaction: pay or cancel the parent (combined) id.
    pub const USE_COMBINED_ORDER_ID: &str = "CBC.99000089";
    pub const ORDER_NOT_CANCELLABLE: &str = "CBC.99005010";
    pub const NOT_REFUND_ORDER: &str = "CBC.99005026";
    pub const RESOURCE_NOT_FOUND: &str = "CBC.99003012";
    pub const RESOURCE_NOT_MANAGED: &str = "CBC.30000067";
    pub const NOT_MAIN_RESOURCE: &str = "CBC.30010036";
    pub const DUPLICATE_RESOURCE_IDS: &str = "CBC.30050012";
    pub const RESOURCE_IN_UNPAID_ORDER: &str = "CBC.30050010";
    pub const AUTO_PAY_FAILED: &str = "CBC.30050006";
    pub const RENEWAL_PERIOD_NOT_FOUND: &str = "CBC.30010069";
    /// Auto-renewal switched on for a resource in its grace period or frozen.
    pub const AUTO_RENEW_EXPIRED_OR_FROZEN: &str = "CBC.99003602";
    /// Auto-renewal cancelled for a resource that does not auto-renew.
    pub const AUTO_RENEW_ALREADY_CANCELLED: &str = "CBC.99003605";
    /// A switch to pay-per-use while the resource is in another transaction (an order pending
    /// payment).
    pub const ON_DEMAND_OTHER_TRANSACTION: &str = "CBC.99003623";
    /// More orders created within 60 seconds than `orders.max_orders_per_minute`.
    pub const TOO_FREQUENT: &str = "CBC.99008040";
    /// More orders created in one UTC+8 day than `orders.max_orders_per_day`.
    pub const DAILY_ORDER_LIMIT: &str = "CBC.99008056";
    /// The copies paid for exceed a product's capacity left in a region (`error_details` lists
    /// each short product).
    pub const CAPACITY_INSUFFICIENT: &str = "CBC.99003141";
    /// The product has no tax rate (it cannot be ordered or paid).
    pub const NO_TAX_RATE: &str = "CBC.99006093";

    /// Every business code above (to rebuild a stored error on an idempotent replay).
    pub const ALL: &[&str] = &[
        NO_CUSTOMER_PERMISSION,
        LOGIN_NAME_FORMAT,
        MOBILE_FORMAT,
        MOBILE_EXISTS,
        MOBILE_LIMIT,
        NOT_SUB_CUSTOMER,
        PASSWORD_FORMAT,
        NOT_YOUR_RESELLER,
        LOGIN_NAME_EXISTS,
        XACCOUNT_ID_EXISTS,
        MOBILE_REPORTED,
        CODE_SEND_FAILED,
        CODE_EXPIRED,
        CODE_TOO_MANY_FAILURES,
        CODE_WRONG,
        CODE_SEND_LIMIT,
        SANDBOX_PARTNER,
        DISTRIBUTOR_MAY_NOT_ASSOCIATE,
        DISTRIBUTOR_EXITED,
        PARTNER_RESTRICTED,
        DISTRIBUTOR_RESTRICTED,
        INSUFFICIENT_BALANCE,
        ASSOCIATION_TYPE_NOT_ALLOWED,
        CHANGE_RECORDS_NOT_SUPPORTED,
        ACCOUNT_NOT_FOUND,
        CUSTOMER_NOT_FOUND,
        CUSTOMER_AUTHORISATION_FAILED,
        ACCOUNT_FROZEN,
        QUOTA_INVALID,
        QUOTA_INSUFFICIENT,
        COUPON_ADVISORY_CUSTOMER,
        QUOTA_OUTSIDE_WINDOW,
        FACE_VALUE_BELOW_MIN,
        FACE_VALUE_ABOVE_MAX,
        TOO_MANY_COUPONS,
        FIRST_ASSOCIATION_ONLY,
        RESTRICTION_EXCEEDS_QUOTA,
        NO_SELF_ISSUE,
        RECLAIM_ADVISORY_COUPON,
        COUPON_NOT_RECLAIMABLE,
        DESIGNATED_CUSTOMERS_ONLY,
        DESIGNATED_NOT_RESELLERS,
        TOTAL_FACE_VALUE_EXCEEDED,
        COUPON_USAGE_MODE,
        FINANCIALLY_CUSTODIED,
        PRODUCT_NOT_FOUND,
        SERVICE_TYPE_NOT_FOUND,
        RATING_PRODUCT_NOT_FOUND,
        RATING_WRONG_UNIT,
        USAGE_TOO_OLD,
        USAGE_TYPE_NOT_PRICED,
        FEE_RECORD_NOT_FOUND,
        REFUND_EXCEEDS_CHARGE,
        OPPORTUNITY_NOT_FOUND,
        OPPORTUNITY_STATE,
        ACCEPT_DEADLINE_PASSED,
        LEAD_NOT_FOUND,
        LEAD_CLOSED,
        WARNING_NOT_FOUND,
        WARNING_HANDLED,
        TASK_NOT_FOUND,
        TASK_DONE,
        RECHARGE_NOT_FOUND,
        RECHARGE_STATE,
        WITHDRAWAL_NOT_FOUND,
        WITHDRAWAL_STATE,
        WITHDRAWAL_EXCEEDS_WITHDRAWABLE,
        REBATE_INVOICE_REQUIRED,
        INVOICE_NOT_FOUND,
        INVOICE_STATE,
        INVOICE_SPECIAL_NEEDS_ENTERPRISE,
        INVOICE_MEDIUM_NOT_ALLOWED,
        ALREADY_INVOICED,
        CYCLE_NOT_POSTED,
        NOTHING_TO_INVOICE,
        ORDER_NOT_FOUND,
        REPAYMENT_EXCEEDS_USED_CREDIT,
        INVOICE_TAX_ID_REQUIRED,
        AUTHORIZATION_NOT_FOUND,
        AUTHORIZATION_OPEN_EXISTS,
        AUTHORIZATION_NOT_PENDING,
        AUTHORIZATION_NOT_REVOCABLE,
        CLOCK_BACKWARDS,
        INVALID_ORDER,
        ORDER_STATE_CHANGED,
        PAYMENT_IN_PROGRESS,
        USE_COMBINED_ORDER_ID,
        ORDER_NOT_CANCELLABLE,
        NOT_REFUND_ORDER,
        RESOURCE_NOT_FOUND,
        RESOURCE_NOT_MANAGED,
        NOT_MAIN_RESOURCE,
        DUPLICATE_RESOURCE_IDS,
        RESOURCE_IN_UNPAID_ORDER,
        AUTO_PAY_FAILED,
        RENEWAL_PERIOD_NOT_FOUND,
        AUTO_RENEW_EXPIRED_OR_FROZEN,
        AUTO_RENEW_ALREADY_CANCELLED,
        ON_DEMAND_OTHER_TRANSACTION,
        TOO_FREQUENT,
        DAILY_ORDER_LIMIT,
        CAPACITY_INSUFFICIENT,
        NO_TAX_RATE,
    ];
}

#[derive(Debug)]
pub struct ApiError {
    pub code: Code,
    pub message: Cow<'static, str>,
    /// The cause of an internal error; logged, never sent.
    pub source: Option<anyhow::Error>,
    /// `error_details` of the body (the SDK's `ErrorDetail`), e.g. what is short for
    /// CBC.99003141; empty: not sent.
    pub details: Vec<ErrorDetail>,
}

/// One item of an error body's `error_details` (the SDK's `ErrorDetail`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ErrorDetail {
    /// What the detail is about (e.g. a product id).
    pub id: String,
    pub error_code: String,
    pub error_msg: String,
}

/// What the error-envelope middleware needs to build the body; carried as a response extension.
#[derive(Debug, Clone)]
pub struct ErrorBody {
    pub code: Cow<'static, str>,
    pub message: String,
    pub details: Vec<ErrorDetail>,
}

impl ApiError {
    pub fn new(code: Code, message: impl Into<Cow<'static, str>>) -> Self {
        ApiError {
            code,
            message: message.into(),
            source: None,
            details: Vec::new(),
        }
    }

    /// The same error with `error_details` in its body.
    pub fn with_details(mut self, details: Vec<ErrorDetail>) -> Self {
        self.details = details;
        self
    }

    /// 400 CBC.0100 naming the offending field.
    pub fn invalid(field: &str, why: impl std::fmt::Display) -> Self {
        ApiError::new(
            Code::InvalidParameter,
            format!("Invalid parameter: {field}: {why}"),
        )
    }

    pub fn business(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        ApiError::new(Code::Business(code), message)
    }

    pub fn access_denied() -> Self {
        ApiError::new(Code::AccessDenied, "Access denied.")
    }

    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        ApiError {
            code: Code::Internal,
            message: "Internal server error.".into(),
            source: Some(source.into()),
            details: Vec::new(),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ApiError::internal(e)
    }
}

/// The ledger's refusals: a floor (insufficient balance) is the business code CBC.99005003, never a
/// 500; a malformed journal is a bug.
impl From<crate::ledger::LedgerError> for ApiError {
    fn from(e: crate::ledger::LedgerError) -> Self {
        match e {
            crate::ledger::LedgerError::Insufficient => {
                ApiError::business(codes::INSUFFICIENT_BALANCE, "Insufficient balance.")
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        ApiError::internal(e)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code.as_str(), self.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Some(source) = &self.source {
            tracing::error!(error = ?source, "internal error");
        }
        error_response_with_details(
            self.code.status(),
            self.code.as_str(),
            self.message.into_owned(),
            self.details,
        )
    }
}

/// Builds an error response; the envelope middleware adds `request_id` to the body.
pub fn error_response(
    status: StatusCode,
    code: impl Into<Cow<'static, str>>,
    message: String,
) -> Response {
    error_response_with_details(status, code, message, Vec::new())
}

/// [`error_response`] with `error_details` (sent only when not empty).
pub fn error_response_with_details(
    status: StatusCode,
    code: impl Into<Cow<'static, str>>,
    message: String,
    details: Vec<ErrorDetail>,
) -> Response {
    let code = code.into();
    let mut body = serde_json::json!({ "error_code": code, "error_msg": message });
    if !details.is_empty() {
        body["error_details"] = serde_json::json!(details);
    }
    let mut resp = (status, axum::Json(body)).into_response();
    resp.extensions_mut().insert(ErrorBody {
        code,
        message,
        details,
    });
    resp
}

pub type ApiResult<T> = Result<T, ApiError>;

/// True when a database error is the violation of the named constraint.
pub fn is_constraint(e: &sqlx::Error, name: &str) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.constraint() == Some(name))
}
