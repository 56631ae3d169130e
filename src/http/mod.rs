//! Routing and the cross-cutting layers: request ids, tracing spans, metrics, the error envelope,
//! panic recovery and authentication.

pub mod admin;
pub mod auth;
pub mod extract;
pub mod iam;
pub mod input;
pub mod metrics;
pub mod ops;
pub mod organisation;
pub mod permissions;
pub mod ratelimit;
pub mod serve;
pub mod v2;

use axum::{
    body::Body,
    extract::{DefaultBodyLimit, Request},
    http::{HeaderName, HeaderValue, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    Router,
};
use serde::Serialize;
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    trace::{DefaultOnResponse, TraceLayer},
};
use utoipa::{
    openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi, ToSchema,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    error::{error_response, ErrorBody as ErrorMarker},
    state::AppState,
};

/// The error body of every non-2xx response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// `CBC.xxxx` (or `APIG.xxxx` for gateway-level authentication failures).
    pub error_code: String,
    pub error_msg: String,
    pub request_id: Option<String>,
    /// Only some errors: what is short, one item per product for CBC.99003141 (`pay_orders`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_details: Option<Vec<ErrorDetailBody>>,
}

/// One item of `error_details` (the SDK's `ErrorDetail`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetailBody {
    /// What the item is about (for CBC.99003141 the product id).
    pub id: String,
    pub error_code: String,
    pub error_msg: String,
}

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        let aksk = ApiKey::Header(ApiKeyValue::with_description(
            "Authorization",
            "SDK-HMAC-SHA256 AK/SK signature of the Huawei Cloud SDKs (with X-Sdk-Date, signed headers).",
        ));
        components.add_security_scheme("aksk", SecurityScheme::ApiKey(aksk));
        components.add_security_scheme(
            "token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Auth-Token",
                "IAM-compatible token from POST /v3/auth/tokens.",
            ))),
        );
        components.add_security_scheme(
            "admin",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "partner-center",
        description = "Partner sales platform API, compatible with the Huawei Cloud BSS partner API (/v2) and its official SDKs."
    ),
    modifiers(&SecuritySchemes),
    components(schemas(ErrorBody, ErrorDetailBody)),
    tags(
        (name = "customers", description = "Sub-customers of a partner"),
        (name = "partners", description = "Resellers of a distributor"),
        (name = "real-name", description = "Real-name authentication of customers"),
        (name = "authorizations", description = "Customer authorisations of their partner and the assume-role request log (extension)"),
        (name = "association", description = "Association switching, un-association with consent, records (extension)"),
        (name = "organisation", description = "A partner's operators, roles (permission items) and customer managers (extension)"),
        (name = "funding", description = "Balances, funding and reclaiming, adjust and account-change records"),
        (name = "coupons", description = "Coupon quotas, partner coupons, customer coupon views"),
        (name = "money-out", description = "Top-ups, the partner bill, invoices, withdrawals with held funds, credit repayment (extension)"),
        (name = "events", description = "The event feed and signed webhooks (extension)"),
        (name = "selling", description = "Opportunities (PO reported by the partner, HO shared by the vendor) leads, customer warnings, sales-expansion tasks, dashboards (extension)"),
        (name = "catalogue", description = "Service, resource and usage types, measure units, conversions, price inquiries"),
        (name = "iam", description = "IAM-compatible tokens and domain discovery"),
        (name = "admin", description = "The vendor's own operations"),
        (name = "operations", description = "Health, readiness and metrics"),
    )
)]
struct ApiDoc;

/// The partner/customer API: every route behind the AK/SK-or-token layer.
fn signed_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(v2::customers::check_user_identity))
        .routes(routes!(v2::customers::send_verification_message_code))
        .routes(routes!(v2::customers::create_sub_customer))
        .routes(routes!(v2::customers::list_sub_customers))
        .routes(routes!(v2::partners::list_indirect_partners))
        .routes(routes!(v2::association::switch_association_type))
        .routes(routes!(v2::association::request_unassociation))
        .routes(routes!(v2::association::list_partner_requests))
        .routes(routes!(v2::association::partner_approve))
        .routes(routes!(v2::association::partner_reject))
        .routes(routes!(v2::association::list_association_records))
        .routes(routes!(v2::association::show_customer_partner))
        .routes(routes!(v2::association::list_customer_requests))
        .routes(routes!(v2::association::customer_approve))
        .routes(routes!(v2::association::customer_reject))
        .routes(routes!(v2::association::customer_request_unassociation))
        .merge(v2::authorizations::routes())
        .routes(routes!(v2::lifecycle::list_sub_customer_new_tag))
        .routes(routes!(v2::lifecycle::freeze_sub_customers))
        .routes(routes!(v2::lifecycle::unfreeze_sub_customers))
        .routes(routes!(v2::realname::create_personal_realname_auth))
        .routes(routes!(
            v2::realname::create_enterprise_realname_authentication,
            v2::realname::change_enterprise_realname_authentication
        ))
        .routes(routes!(
            v2::realname::show_realname_authentication_review_result
        ))
        .routes(routes!(v2::realname::show_real_name_auth_status))
        .routes(routes!(v2::realname::show_real_name_auth_qr_code))
        .routes(routes!(organisation::list_roles, organisation::create_role))
        .routes(routes!(organisation::update_role))
        .routes(routes!(
            organisation::list_operators,
            organisation::create_operator
        ))
        .routes(routes!(organisation::update_operator))
        .routes(routes!(organisation::create_operator_access_key))
        .routes(routes!(
            organisation::assign_customer,
            organisation::list_assignments
        ))
        .routes(routes!(v2::funding::list_partner_balances))
        .routes(routes!(v2::funding::update_customer_account_amount))
        .routes(routes!(v2::funding::reclaim_to_partner_account))
        .routes(routes!(v2::funding::batch_update_customer_account_amount))
        .routes(routes!(v2::funding::list_partner_adjust_records))
        .routes(routes!(v2::funding::list_partner_account_change_records))
        .routes(routes!(v2::funding::list_customers_balances_detail))
        .routes(routes!(v2::funding::show_customer_account_balances))
        .routes(routes!(v2::funding::list_customer_account_change_records))
        .routes(routes!(v2::funding::update_indirect_partner_account))
        .routes(routes!(v2::funding::reclaim_indirect_partner_account))
        .routes(routes!(v2::coupons::list_quota_coupons))
        .routes(routes!(
            v2::coupons::create_partner_coupons,
            v2::coupons::list_issued_partner_coupons
        ))
        .routes(routes!(v2::coupons::reclaim_partner_coupons))
        .routes(routes!(v2::coupons::list_partner_coupons_record))
        .routes(routes!(v2::coupons::update_coupon_quotas))
        .routes(routes!(v2::coupons::reclaim_coupon_quotas))
        .routes(routes!(v2::coupons::list_coupon_quotas_records))
        .routes(routes!(v2::coupons::list_issued_coupon_quotas))
        .routes(routes!(v2::coupons::list_sub_customer_coupons))
        .routes(routes!(v2::coupons::list_customer_coupon_change_records))
        .routes(routes!(v2::coupons::list_stored_value_cards))
        .routes(routes!(v2::catalogue::list_service_types))
        .routes(routes!(v2::catalogue::list_resource_types))
        .routes(routes!(v2::catalogue::list_service_resources))
        .routes(routes!(v2::catalogue::list_usage_types))
        .routes(routes!(v2::catalogue::list_measure_units))
        .routes(routes!(v2::catalogue::list_conversions))
        .routes(routes!(v2::catalogue::list_on_demand_resource_ratings))
        .routes(routes!(v2::catalogue::list_rate_on_period_detail))
        .routes(routes!(iam::list_domains))
        .merge(v2::bills::routes())
        .routes(routes!(v2::events::list_events))
        .routes(routes!(
            v2::events::create_webhook,
            v2::events::list_webhooks
        ))
        .routes(routes!(
            v2::events::show_webhook,
            v2::events::update_webhook,
            v2::events::delete_webhook
        ))
        .routes(routes!(v2::events::rotate_webhook_secret))
        .routes(routes!(v2::events::list_webhook_attempts))
        .routes(routes!(v2::events::redeliver_webhook_event))
        .routes(routes!(
            v2::opportunities::create_opportunity,
            v2::opportunities::list_opportunities
        ))
        .routes(routes!(
            v2::opportunities::show_opportunity,
            v2::opportunities::update_opportunity
        ))
        .routes(routes!(v2::opportunities::submit_opportunity))
        .routes(routes!(v2::opportunities::accept_opportunity))
        .routes(routes!(v2::opportunities::decline_opportunity))
        .routes(routes!(v2::opportunities::close_opportunity))
        .routes(routes!(v2::leads::create_lead, v2::leads::list_leads))
        .routes(routes!(v2::leads::show_lead))
        .routes(routes!(v2::leads::assign_lead))
        .routes(routes!(v2::leads::follow_up_lead))
        .routes(routes!(v2::leads::convert_lead))
        .routes(routes!(v2::leads::close_lead))
        .routes(routes!(v2::warnings::list_customer_warnings))
        .routes(routes!(v2::warnings::handle_customer_warning))
        .routes(routes!(
            v2::warnings::show_warning_settings,
            v2::warnings::update_warning_settings
        ))
        .routes(routes!(v2::tasks::list_sales_tasks))
        .routes(routes!(v2::tasks::handle_sales_task))
        .routes(routes!(v2::dashboards::show_customer_dashboard))
        .routes(routes!(v2::dashboards::show_consumption_dashboard))
        .routes(routes!(v2::dashboards::show_performance_dashboard))
        .routes(routes!(v2::performance::show_performance_summary))
        .routes(routes!(v2::performance::list_performance_details))
        .merge(v2::resource_bills::routes())
        .merge(v2::money_out::routes())
        .merge(v2::partner_bills::routes())
        .merge(v2::orders::routes())
}

fn admin_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(admin::create_partner, admin::list_partners))
        .routes(routes!(admin::show_partner, admin::update_partner))
        .routes(routes!(admin::update_customer))
        .routes(routes!(
            admin::catalogue::products::register_product,
            admin::catalogue::products::list_products
        ))
        .routes(routes!(
            admin::catalogue::products::show_product,
            admin::catalogue::products::update_product
        ))
        .routes(routes!(
            admin::catalogue::products::put_capacity,
            admin::catalogue::products::delete_capacity
        ))
        .routes(routes!(admin::catalogue::products::list_capacities))
        .routes(routes!(
            admin::catalogue::create_service_type,
            admin::catalogue::list_service_types
        ))
        .routes(routes!(admin::catalogue::update_service_type))
        .routes(routes!(
            admin::catalogue::create_resource_type,
            admin::catalogue::list_resource_types
        ))
        .routes(routes!(admin::catalogue::update_resource_type))
        .routes(routes!(
            admin::catalogue::create_usage_type,
            admin::catalogue::list_usage_types
        ))
        .routes(routes!(admin::catalogue::update_usage_type))
        .routes(routes!(
            admin::catalogue::units::create_measure_unit,
            admin::catalogue::units::list_measure_units
        ))
        .routes(routes!(admin::catalogue::units::update_measure_unit))
        .routes(routes!(
            admin::catalogue::units::create_conversion,
            admin::catalogue::units::list_conversions
        ))
        .routes(routes!(admin::catalogue::units::update_conversion))
        .routes(routes!(admin::create_registration_report))
        .routes(routes!(admin::create_access_key, admin::list_access_keys))
        .routes(routes!(admin::disable_account))
        .routes(routes!(admin::enable_account))
        .routes(routes!(admin::disable_access_key))
        .routes(routes!(admin::enable_access_key))
        .routes(routes!(admin::list_verification_codes))
        .routes(routes!(admin::realname::list_realname_applications))
        .routes(routes!(admin::realname::review_realname_application))
        .routes(routes!(admin::money::create_deposit))
        .routes(routes!(admin::money::set_credit_line))
        .routes(routes!(admin::money::set_designated_amount))
        .routes(routes!(admin::money::audit_ledger))
        .routes(routes!(admin::coupons::grant_coupon_quota))
        .routes(routes!(admin::coupons::adjust_coupon_quota))
        .routes(routes!(admin::coupons::invalidate_coupon_quota))
        .routes(routes!(admin::coupons::freeze_coupon_quota))
        .routes(routes!(admin::coupons::unfreeze_coupon_quota))
        .merge(admin::usage::routes())
        .merge(admin::money_out::routes())
        .routes(routes!(
            admin::selling::create_ho_opportunity,
            admin::selling::list_all_opportunities
        ))
        .routes(routes!(admin::selling::show_any_opportunity))
        .routes(routes!(admin::selling::approve_opportunity))
        .routes(routes!(admin::selling::reject_opportunity))
        .routes(routes!(admin::selling::list_holidays))
        .routes(routes!(admin::selling::dispatch_lead))
        .routes(routes!(admin::selling::raise_customer_warning))
        .routes(routes!(admin::selling::create_sales_task))
        .routes(routes!(
            admin::selling::set_holiday,
            admin::selling::delete_holiday
        ))
}

/// The sandbox clock's admin routes: mounted only when the clock is a sandbox clock
/// (`sandbox.clock = true`); otherwise they answer 404 like any unknown route.
fn sandbox_routes(state: &AppState) -> OpenApiRouter<AppState> {
    if state.clock.sandbox().is_some() {
        admin::clock::routes().route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_admin,
        ))
    } else {
        // (A route layer on no routes would panic: there is nothing to guard.)
        OpenApiRouter::new()
    }
}

fn public_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(iam::create_token))
        .routes(routes!(v2::realname::scan_real_name_qr_code))
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
        .routes(routes!(ops::metrics))
}

fn api(state: &AppState) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(
            signed_routes()
                .route_layer(middleware::from_fn(permissions::check))
                .route_layer(middleware::from_fn_with_state(
                    state.clone(),
                    auth::require_caller,
                )),
        )
        .merge(admin_routes().route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_admin,
        )))
        .merge(sandbox_routes(state))
        .merge(public_routes())
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::invalidate_callers,
        ))
        // Outermost route layer: the text-input rule runs before authentication on every route.
        .route_layer(middleware::from_fn_with_state(state.clone(), input::guard))
        .split_for_parts()
}

/// The OpenAPI document of every route (what `/openapi.json` serves).
pub fn openapi() -> utoipa::openapi::OpenApi {
    OpenApiRouter::<AppState>::with_openapi(ApiDoc::openapi())
        .merge(signed_routes())
        .merge(admin_routes())
        .merge(admin::clock::routes())
        .merge(public_routes())
        .split_for_parts()
        .1
}

pub fn openapi_json() -> String {
    openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serialises")
}

pub fn router(state: AppState) -> Router {
    let (routes, doc) = api(&state);
    let routes = routes
        .merge(utoipa_swagger_ui::SwaggerUi::new("/docs").url("/openapi.json", doc))
        .fallback(not_found);
    with_layers(routes, state)
}

/// The cross-cutting layers, outermost last: request id, span, metrics, error envelope, body
/// limit, panic recovery.
pub fn with_layers(routes: Router<AppState>, state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let body_limit = state.config.http.body_limit_bytes;
    routes
        // Innermost: behind a transaction pooler the answer waits for the request's commits.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::db::pool::settle_request,
        ))
        .layer(CatchPanicLayer::custom(|_| {
            error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "CBC.0999",
                "Internal server error.".into(),
            )
        }))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn(error_envelope))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(
            TraceLayer::new_for_http()
                // One INFO line per request (status and latency) inside the request span.
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO))
                .make_span_with(|req: &Request| {
                    let request_id = req
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    tracing::info_span!(
                        "request",
                        request_id,
                        method = metrics::method_label(req.method()),
                        route = %metrics::route_of(req),
                        caller_id = tracing::field::Empty,
                    )
                }),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

async fn not_found() -> Response {
    error_response(
        StatusCode::NOT_FOUND,
        "APIG.0101",
        "The API does not exist or has not been published.".into(),
    )
}

/// Gives every error response the vendor's body shape with the request id: our own errors carry
/// their code; anything else (axum's 405, a 413 from a body limit, a bare status) gets one.
async fn error_envelope(req: Request, next: Next) -> Response {
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .map(str::to_string)
        .or_else(|| {
            req.headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        });
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let details = resp
        .extensions()
        .get::<ErrorMarker>()
        .map(|m| m.details.clone())
        .unwrap_or_default();
    let (code, message): (std::borrow::Cow<'static, str>, String) = match resp
        .extensions()
        .get::<ErrorMarker>()
    {
        Some(m) => (m.code.clone(), m.message.clone()),
        None => match status {
            StatusCode::NOT_FOUND => (
                "APIG.0101".into(),
                "The API does not exist or has not been published.".to_string(),
            ),
            StatusCode::METHOD_NOT_ALLOWED => (
                "CBC.0100".into(),
                "Method not allowed on this resource.".to_string(),
            ),
            StatusCode::PAYLOAD_TOO_LARGE => {
                ("CBC.0100".into(), "Request body is too large.".to_string())
            }
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                ("CBC.0100".into(), "Unsupported content type.".to_string())
            }
            s if s.is_server_error() => ("CBC.0999".into(), "Internal server error.".to_string()),
            _ => ("CBC.0100".into(), "Invalid request.".to_string()),
        },
    };
    let (mut parts, _) = resp.into_parts();
    let mut body = serde_json::json!({
        "error_code": code,
        "error_msg": message,
        "request_id": request_id,
    });
    if !details.is_empty() {
        body["error_details"] = serde_json::json!(details);
    }
    parts.headers.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    let mut out = Response::from_parts(parts, Body::from(body.to_string()));
    out.extensions_mut().insert(ErrorMarker {
        code,
        message,
        details,
    });
    out.into_response()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::{body::Body, http::Request, routing::get};
    use tower::ServiceExt;

    use super::*;
    use crate::{config::Config, state::App};

    fn lazy_state() -> AppState {
        let config = Config::default();
        AppState(Arc::new(App {
            db: crate::db::pool::Db::new(
                sqlx::postgres::PgPoolOptions::new()
                    .connect_lazy("postgres://nobody@127.0.0.1:1/none")
                    .unwrap(),
                false,
            ),
            secrets: crate::crypto::SecretBox::from_base64(
                config.auth.secret_encryption_key.expose(),
            )
            .unwrap(),
            sms: crate::service::sms::SmsSender::Log,
            config,
            clock: Arc::new(crate::state::SystemClock),
            metrics: Default::default(),
            limiter: ratelimit::RateLimiter::new(0),
            funding_batches: Default::default(),
            balance_reads: crate::service::read_coalesce::ReadCoalescer::new("partner_balances"),
            callers: Default::default(),
        }))
    }

    #[tokio::test]
    async fn a_panicking_handler_becomes_an_opaque_500_with_the_error_body() {
        async fn boom() -> &'static str {
            panic!("secret internal detail")
        }
        let app = with_layers(Router::new().route("/boom", get(boom)), lazy_state());
        let resp = app
            .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(resp.headers().contains_key("x-request-id"));
        let body = axum::body::to_bytes(resp.into_body(), 10_000)
            .await
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["error_code"], "CBC.0999");
        assert!(!String::from_utf8_lossy(&body).contains("secret"));
        assert!(v["request_id"].is_string());
    }
}
