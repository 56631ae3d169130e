//! Which permission item each partner route needs when an operator calls it. The partner's main
//! account may call everything; an operator gets 403 CBC.0151 without the item. A route missing
//! from this table is refused to operators (fail closed).

use axum::{
    extract::{MatchedPath, Request},
    http::Method,
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{error::ApiError, service::auth::Caller};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Required {
    /// A permission item of the operator's role.
    Item(&'static str),
    /// Only the partner's main account (organisation management).
    MainAccount,
    /// Any authenticated caller (customer routes, domain discovery).
    Anyone,
}

/// (method, route template, requirement).
pub const ROUTES: &[(&str, &str, Required)] = &[
    (
        "POST",
        "/v2/partners/coupon-quotas/query",
        Required::Item("coupon:read"),
    ),
    (
        "POST",
        "/v2/promotions/benefits/partner-coupons",
        Required::Item("coupon:write"),
    ),
    (
        "GET",
        "/v2/promotions/benefits/partner-coupons",
        Required::Item("coupon:read"),
    ),
    (
        "POST",
        "/v2/promotions/benefits/partner-coupons/reclaim",
        Required::Item("coupon:write"),
    ),
    (
        "GET",
        "/v2/promotions/benefits/partner-coupons/records/query",
        Required::Item("coupon:read"),
    ),
    (
        "POST",
        "/v2/partners/coupon-quotas/indirect-partner-adjust",
        Required::Item("coupon:write"),
    ),
    (
        "POST",
        "/v2/partners/coupon-quotas/indirect-partner-reclaim",
        Required::Item("coupon:write"),
    ),
    (
        "GET",
        "/v2/partners/coupon-quotas/records",
        Required::Item("coupon:read"),
    ),
    (
        "GET",
        "/v2/partners/issued-coupon-quotas",
        Required::Item("coupon:read"),
    ),
    (
        "GET",
        "/v2/bills/partner-bills/subcustomer-bills/monthly-sum",
        Required::Item("billing:read"),
    ),
    (
        "GET",
        "/v2/bills/subcustomer-bills/res-fee-records",
        Required::Item("billing:read"),
    ),
    (
        "POST",
        "/v2/bills/subcustomer-bills/res-fee-records/sub-customers/query",
        Required::Item("billing:read"),
    ),
    (
        "GET",
        "/v2/bills/subcustomer-bills/res-fee-records/export",
        Required::Item("billing:read"),
    ),
    (
        "PUT",
        "/v2/partners/sub-customers/discounts",
        Required::Item("customer:manage"),
    ),
    (
        "GET",
        "/v2/bills/customer-bills/monthly-sum",
        Required::Anyone,
    ),
    (
        "GET",
        "/v2/bills/customer-bills/fee-records",
        Required::Anyone,
    ),
    (
        "GET",
        "/v2/bills/customer-bills/res-fee-records",
        Required::Anyone,
    ),
    (
        "POST",
        "/v2/bills/customer-bills/res-records/query",
        Required::Anyone,
    ),
    ("GET", "/v2/promotions/benefits/coupons", Required::Anyone),
    (
        "GET",
        "/v2/promotions/benefits/account-change-records",
        Required::Anyone,
    ),
    (
        "GET",
        "/v2/promotions/benefits/stored-value-cards",
        Required::Anyone,
    ),
    ("GET", "/v3/auth/domains", Required::Anyone),
    // The catalogue and price inquiries (vendor data, no customer data).
    ("GET", "/v2/products/service-types", Required::Anyone),
    ("GET", "/v2/products/resource-types", Required::Anyone),
    ("GET", "/v2/products/service-resources", Required::Anyone),
    ("GET", "/v2/products/usage-types", Required::Anyone),
    ("GET", "/v2/bases/measurements", Required::Anyone),
    ("GET", "/v2/bases/conversions", Required::Anyone),
    (
        "POST",
        "/v2/bills/ratings/on-demand-resources",
        Required::Anyone,
    ),
    (
        "POST",
        "/v2/bills/ratings/period-resources/subscribe-rate",
        Required::Anyone,
    ),
    (
        "POST",
        "/v2/partners/sub-customers/users/check-identity",
        Required::Item("customer:create"),
    ),
    (
        "POST",
        "/v2/bases/verificationcode/send",
        Required::Item("customer:create"),
    ),
    (
        "POST",
        "/v2/partners/sub-customers",
        Required::Item("customer:create"),
    ),
    (
        "POST",
        "/v2/partners/sub-customers/query",
        Required::Item("customer:read"),
    ),
    (
        "POST",
        "/v2/partners/sub-customers/new-customers-tags/batch-query",
        Required::Item("customer:read"),
    ),
    (
        "POST",
        "/v2/partners/sub-customers/freeze",
        Required::Item("customer:manage"),
    ),
    (
        "POST",
        "/v2/partners/sub-customers/unfreeze",
        Required::Item("customer:manage"),
    ),
    (
        "POST",
        "/v2/partners/indirect-partners/query",
        Required::Item("reseller:read"),
    ),
    (
        "POST",
        "/v2/customers/realname-auths/individual",
        Required::Item("customer:manage"),
    ),
    (
        "POST",
        "/v2/customers/realname-auths/enterprise",
        Required::Item("customer:manage"),
    ),
    (
        "PUT",
        "/v2/customers/realname-auths/enterprise",
        Required::Item("customer:manage"),
    ),
    (
        "GET",
        "/v2/customers/realname-auths/result",
        Required::Item("customer:read"),
    ),
    (
        "GET",
        "/v2/customers/real-name-auth-status",
        Required::Anyone,
    ),
    (
        "GET",
        "/v2/accounts/partner-accounts/balances",
        Required::Item("funding:read"),
    ),
    (
        "POST",
        "/v2/accounts/partner-accounts/adjust-amount",
        Required::Item("funding:write"),
    ),
    (
        "POST",
        "/v2/accounts/partner-accounts/reclaim",
        Required::Item("funding:write"),
    ),
    (
        "POST",
        "/v2/accounts/partner-accounts/batch-adjust-amount",
        Required::Item("funding:write"),
    ),
    (
        "POST",
        "/v2/accounts/partner-accounts/indirect-partner-adjust",
        Required::Item("funding:write"),
    ),
    (
        "POST",
        "/v2/accounts/partner-accounts/indirect-partner-reclaim",
        Required::Item("funding:write"),
    ),
    (
        "GET",
        "/v3/accounts/partner-accounts/adjust-records",
        Required::Item("funding:read"),
    ),
    (
        "GET",
        "/v2/accounts/partner-accounts/account-change-records",
        Required::Item("funding:read"),
    ),
    (
        "POST",
        "/v2/accounts/customer-accounts/balances/batch-query",
        Required::Item("funding:read"),
    ),
    (
        "GET",
        "/v2/accounts/customer-accounts/account-change-records",
        Required::Anyone,
    ),
    (
        "GET",
        "/v2/accounts/customer-accounts/balances",
        Required::Anyone,
    ),
    (
        "POST",
        "/v2/partners/sub-customers/association-type",
        Required::Item("customer:manage"),
    ),
    (
        "POST",
        "/v2/partners/sub-customers/unassociate",
        Required::Item("customer:manage"),
    ),
    (
        "GET",
        "/v2/partners/sub-customers/association-requests",
        Required::Item("customer:read"),
    ),
    (
        "POST",
        "/v2/partners/sub-customers/association-requests/{request_id}/approve",
        Required::Item("customer:manage"),
    ),
    (
        "POST",
        "/v2/partners/sub-customers/association-requests/{request_id}/reject",
        Required::Item("customer:manage"),
    ),
    (
        "GET",
        "/v2/partners/sub-customers/association-records",
        Required::Item("customer:read"),
    ),
    ("GET", "/v2/customers/partner-association", Required::Anyone),
    (
        "GET",
        "/v2/customers/association-requests",
        Required::Anyone,
    ),
    (
        "POST",
        "/v2/customers/association-requests/{request_id}/approve",
        Required::Anyone,
    ),
    (
        "POST",
        "/v2/customers/association-requests/{request_id}/reject",
        Required::Anyone,
    ),
    ("POST", "/v2/customers/unassociate", Required::Anyone),
    ("GET", "/v2/partners/roles", Required::MainAccount),
    ("POST", "/v2/partners/roles", Required::MainAccount),
    ("PUT", "/v2/partners/roles/{role_id}", Required::MainAccount),
    ("GET", "/v2/partners/operators", Required::MainAccount),
    ("POST", "/v2/partners/operators", Required::MainAccount),
    (
        "PUT",
        "/v2/partners/operators/{operator_id}",
        Required::MainAccount,
    ),
    (
        "POST",
        "/v2/partners/operators/{operator_id}/access-keys",
        Required::MainAccount,
    ),
    (
        "POST",
        "/v2/partners/sub-customers/assignments",
        Required::Item("customer:manage"),
    ),
    (
        "GET",
        "/v2/partners/sub-customers/assignments",
        Required::Item("customer:read"),
    ),
    ("GET", "/v2/partners/events", Required::Item("event:read")),
    ("POST", "/v2/partners/webhooks", Required::MainAccount),
    ("GET", "/v2/partners/webhooks", Required::MainAccount),
    (
        "GET",
        "/v2/partners/webhooks/{endpoint_id}",
        Required::MainAccount,
    ),
    (
        "PUT",
        "/v2/partners/webhooks/{endpoint_id}",
        Required::MainAccount,
    ),
    (
        "DELETE",
        "/v2/partners/webhooks/{endpoint_id}",
        Required::MainAccount,
    ),
    (
        "POST",
        "/v2/partners/webhooks/{endpoint_id}/rotate-secret",
        Required::MainAccount,
    ),
    (
        "GET",
        "/v2/partners/webhooks/{endpoint_id}/attempts",
        Required::MainAccount,
    ),
    (
        "POST",
        "/v2/partners/webhooks/{endpoint_id}/events/{event_id}/redeliver",
        Required::MainAccount,
    ),
    (
        "GET",
        "/v2/partners/opportunities",
        Required::Item("opportunity:read"),
    ),
    (
        "POST",
        "/v2/partners/opportunities",
        Required::Item("opportunity:write"),
    ),
    (
        "GET",
        "/v2/partners/opportunities/{opportunity_id}",
        Required::Item("opportunity:read"),
    ),
    (
        "PUT",
        "/v2/partners/opportunities/{opportunity_id}",
        Required::Item("opportunity:write"),
    ),
    (
        "POST",
        "/v2/partners/opportunities/{opportunity_id}/submit",
        Required::Item("opportunity:write"),
    ),
    (
        "POST",
        "/v2/partners/opportunities/{opportunity_id}/accept",
        Required::Item("opportunity:write"),
    ),
    (
        "POST",
        "/v2/partners/opportunities/{opportunity_id}/reject",
        Required::Item("opportunity:write"),
    ),
    (
        "POST",
        "/v2/partners/opportunities/{opportunity_id}/close",
        Required::Item("opportunity:write"),
    ),
    ("GET", "/v2/partners/leads", Required::Item("lead:read")),
    ("POST", "/v2/partners/leads", Required::Item("lead:write")),
    (
        "GET",
        "/v2/partners/leads/{lead_id}",
        Required::Item("lead:read"),
    ),
    (
        "POST",
        "/v2/partners/leads/{lead_id}/assign",
        Required::Item("lead:write"),
    ),
    (
        "POST",
        "/v2/partners/leads/{lead_id}/follow-ups",
        Required::Item("lead:write"),
    ),
    (
        "POST",
        "/v2/partners/leads/{lead_id}/convert",
        Required::Item("lead:write"),
    ),
    (
        "POST",
        "/v2/partners/leads/{lead_id}/close",
        Required::Item("lead:write"),
    ),
    (
        "GET",
        "/v2/partners/customer-warnings",
        Required::Item("warning:read"),
    ),
    (
        "POST",
        "/v2/partners/customer-warnings/{warning_id}/handle",
        Required::Item("warning:write"),
    ),
    (
        "GET",
        "/v2/partners/customer-warnings/settings",
        Required::Item("warning:read"),
    ),
    (
        "PUT",
        "/v2/partners/customer-warnings/settings",
        Required::MainAccount,
    ),
    (
        "GET",
        "/v2/partners/sales-tasks",
        Required::Item("task:read"),
    ),
    (
        "POST",
        "/v2/partners/sales-tasks/{task_id}/handle",
        Required::Item("task:write"),
    ),
    (
        "GET",
        "/v2/partners/dashboards/customers",
        Required::Item("customer:read"),
    ), // Money out (issue 11).
    (
        "GET",
        "/v2/accounts/partner-accounts/withdrawal-settings",
        Required::Item("funding:read"),
    ),
    (
        "PUT",
        "/v2/accounts/partner-accounts/withdrawal-settings",
        Required::MainAccount,
    ),
    (
        "POST",
        "/v2/accounts/partner-accounts/recharges",
        Required::Item("funding:write"),
    ),
    (
        "GET",
        "/v2/accounts/partner-accounts/recharges",
        Required::Item("funding:read"),
    ),
    (
        "GET",
        "/v2/accounts/partner-accounts/withdrawable",
        Required::Item("funding:read"),
    ),
    (
        "POST",
        "/v2/accounts/partner-accounts/withdrawals",
        Required::Item("withdrawal:write"),
    ),
    (
        "GET",
        "/v2/accounts/partner-accounts/withdrawals",
        Required::Item("funding:read"),
    ),
    (
        "GET",
        "/v2/accounts/partner-accounts/withdrawals/{withdrawal_id}",
        Required::Item("funding:read"),
    ),
    (
        "DELETE",
        "/v2/accounts/partner-accounts/withdrawals/{withdrawal_id}",
        Required::Item("withdrawal:write"),
    ),
    (
        "POST",
        "/v2/accounts/partner-accounts/withdrawals/{withdrawal_id}/cancel",
        Required::Item("withdrawal:write"),
    ),
    (
        "POST",
        "/v2/accounts/partner-accounts/withdrawals/{withdrawal_id}/invoice-reference",
        Required::Item("withdrawal:write"),
    ),
    (
        "POST",
        "/v2/accounts/partner-accounts/credit-repayments",
        Required::Item("funding:write"),
    ),
    (
        "GET",
        "/v2/bills/partner-bills",
        Required::Item("billing:read"),
    ),
    (
        "GET",
        "/v2/bills/partner-bills/cycles",
        Required::Item("billing:read"),
    ),
    (
        "POST",
        "/v2/bills/partner-bills/invoices",
        Required::Item("invoice:write"),
    ),
    (
        "GET",
        "/v2/bills/partner-bills/invoices",
        Required::Item("billing:read"),
    ),
    (
        "GET",
        "/v2/bills/partner-bills/invoices/{invoice_id}",
        Required::Item("billing:read"),
    ),
];

pub fn required(method: &Method, route: &str) -> Option<Required> {
    ROUTES
        .iter()
        .find(|(m, r, _)| *m == method.as_str() && *r == route)
        .map(|(_, _, req)| *req)
}

/// Refuses an operator a route its role does not allow.
pub async fn check(req: Request, next: Next) -> Response {
    if let Some(Caller::Partner(p)) = req.extensions().get::<Caller>() {
        if p.operator.is_some() {
            let route = req
                .extensions()
                .get::<MatchedPath>()
                .map(|m| m.as_str().to_string());
            let allowed = match route.and_then(|r| required(req.method(), &r)) {
                Some(Required::Anyone) => true,
                Some(Required::Item(item)) => p.has_permission(item),
                Some(Required::MainAccount) | None => false,
            };
            if !allowed {
                return ApiError::new(
                    crate::error::Code::AccessDenied,
                    "Access denied: the operator's role does not allow this operation.",
                )
                .into_response();
            }
        }
    }
    next.run(req).await
}
