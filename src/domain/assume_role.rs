//! Customer authorisations of a partner (申请客户授权) and what an assume-role token may call.
//!
//! States: `PENDING` → `APPROVED` | `REJECTED`; `APPROVED` → `REVOKED` | `EXPIRED`. A pending
//! authorisation can also be revoked (withdrawn) by either side.

/// What the customer lets the partner do with an assume-role token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Yearly/monthly orders: create, list, read, pay, cancel.
    Order,
    /// Orders plus the customer's resources (renew, auto-renew, unsubscribe, …).
    OrderAndResource,
}

impl Scope {
    pub fn parse(s: &str) -> Option<Scope> {
        match s {
            "order" => Some(Scope::Order),
            "order_and_resource" => Some(Scope::OrderAndResource),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Order => "order",
            Scope::OrderAndResource => "order_and_resource",
        }
    }
}

/// Whether `path` is `prefix` itself or below it (`prefix/…`).
fn at_or_below(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Order routes (scope `order`).
const ORDER_ROUTES: &[&str] = &[
    "/v2/orders/customer-orders",
    "/v3/orders/customer-orders/pay",
];

/// Resource routes (scope `order_and_resource`), including the vendor's verbatim typo.
const RESOURCE_ROUTES: &[&str] = &["/v2/orders/subscriptions", "/v2/orders/suscriptions"];

/// Identity routes every assume-role token may call: domain discovery (the token's own domain).
const IDENTITY_ROUTES: &[(&str, &str)] = &[("GET", "/v3/auth/domains")];

/// Whether an assume-role token of `scope` may call `method path` (the request path, without
/// the query). Everything not listed is refused, the customer's own self-service routes too.
pub fn route_allowed(scope: Scope, method: &str, path: &str) -> bool {
    if IDENTITY_ROUTES
        .iter()
        .any(|(m, p)| *m == method && *p == path)
    {
        return true;
    }
    if ORDER_ROUTES.iter().any(|p| at_or_below(path, p)) {
        return true;
    }
    scope == Scope::OrderAndResource && RESOURCE_ROUTES.iter().any(|p| at_or_below(path, p))
}

/// Shortest and longest `duration_seconds` of an assume-role token; the default.
pub const MIN_DURATION_SECS: i64 = 900;
pub const MAX_DURATION_SECS: i64 = 86_400;
pub const DEFAULT_DURATION_SECS: i64 = 3_600;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_scope_allows_order_routes_only() {
        for (m, p) in [
            ("POST", "/v2/orders/customer-orders"),
            ("GET", "/v2/orders/customer-orders"),
            ("GET", "/v2/orders/customer-orders/details/CS123"),
            ("PUT", "/v2/orders/customer-orders/cancel"),
            ("GET", "/v2/orders/customer-orders/order-coupons"),
            ("POST", "/v3/orders/customer-orders/pay"),
            ("GET", "/v3/auth/domains"),
        ] {
            assert!(route_allowed(Scope::Order, m, p), "{m} {p}");
            assert!(route_allowed(Scope::OrderAndResource, m, p), "{m} {p}");
        }
        for p in [
            "/v2/orders/subscriptions/resources/renew",
            "/v2/orders/suscriptions/resources/query",
            "/v2/orders/subscriptions/resources/autorenew/r1",
        ] {
            assert!(!route_allowed(Scope::Order, "POST", p), "{p}");
            assert!(route_allowed(Scope::OrderAndResource, "POST", p), "{p}");
        }
    }

    #[test]
    fn everything_else_is_refused_in_both_scopes() {
        for (m, p) in [
            ("GET", "/v2/accounts/customer-accounts/balances"),
            ("GET", "/v2/customers/authorizations"),
            ("POST", "/v2/customers/authorizations/a1/revoke"),
            ("GET", "/v2/bills/customer-bills/monthly-sum"),
            ("POST", "/v2/partners/sub-customers/query"),
            // Look-alike prefixes are not below the order routes.
            ("GET", "/v2/orders/customer-orders-export"),
            ("POST", "/v3/orders/customer-orders/pay-later"),
            ("GET", "/v2/orders/subscriptionsx"),
            ("POST", "/v3/auth/domains"),
            ("POST", "/v3/auth/tokens"),
        ] {
            assert!(!route_allowed(Scope::Order, m, p), "{m} {p}");
            assert!(!route_allowed(Scope::OrderAndResource, m, p), "{m} {p}");
        }
    }

    #[test]
    fn scopes_parse_and_print() {
        for s in [Scope::Order, Scope::OrderAndResource] {
            assert_eq!(Scope::parse(s.as_str()), Some(s));
        }
        assert_eq!(Scope::parse("ORDER"), None);
        assert_eq!(Scope::parse(""), None);
    }
}
