//! Who is calling: credential verification (AK/SK signatures, IAM-compatible tokens) and the typed
//! caller handed to handlers.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::{
    crypto, db,
    domain::{assume_role::Scope, permissions::OperatorScope, AccountKind, PartnerType},
    error::{ApiError, ApiResult, Code},
    service::{
        authorizations,
        caller_cache::{KeyEntry, TokenEntry},
    },
    signing,
    state::App,
};

/// A partner calling with its own credentials.
#[derive(Debug, Clone)]
pub struct PartnerCaller {
    pub account_id: String,
    pub login_name: String,
    pub partner_type: PartnerType,
    pub distributor_id: Option<String>,
    pub xaccount_type: String,
    pub restricted: bool,
    pub sandbox: bool,
    /// Set when one of the partner's operators calls; `None` for the partner's main account.
    pub operator: Option<OperatorCtx>,
}

/// An operator acting for its partner.
#[derive(Debug, Clone)]
pub struct OperatorCtx {
    pub id: String,
    pub login_name: String,
    pub permissions: Vec<String>,
    pub scope: OperatorScope,
    /// Managers whose customers it may see: itself for a manager, itself and its managers for a
    /// supervisor (unused for staff).
    pub managers: Vec<String>,
}

impl PartnerCaller {
    pub fn is_distributor(&self) -> bool {
        self.partner_type == PartnerType::Distributor
    }

    /// Whether the caller holds a permission item (the main account holds all). Supervisors never
    /// move money.
    pub fn has_permission(&self, item: &str) -> bool {
        match &self.operator {
            None => true,
            Some(op) => {
                let moves_money = item.ends_with(":write") && !item.starts_with("customer");
                op.permissions.iter().any(|p| p == item)
                    && !(op.scope == OperatorScope::Supervisor && moves_money)
            }
        }
    }

    /// The managers whose customers the caller may see; `None` means every customer.
    pub fn manager_scope(&self) -> Option<&[String]> {
        match &self.operator {
            Some(op) if op.scope != OperatorScope::Staff => Some(&op.managers),
            _ => None,
        }
    }

    /// Whether a customer assigned to `manager_id` is within the caller's scope.
    pub fn may_see(&self, manager_id: Option<&str>) -> bool {
        match self.manager_scope() {
            None => true,
            Some(ms) => manager_id.is_some_and(|m| ms.iter().any(|x| x == m)),
        }
    }

    pub fn is_main_account(&self) -> bool {
        self.operator.is_none()
    }

    /// Who acts: the operator's id, else the partner's.
    pub fn actor_id(&self) -> &str {
        self.operator.as_ref().map_or(&self.account_id, |o| &o.id)
    }
}

/// A customer calling with its own credentials.
#[derive(Debug, Clone)]
pub struct CustomerCaller {
    pub account_id: String,
    pub login_name: String,
    pub partner_id: Option<String>,
    /// Set when a partner acts as this customer with an assume-role token: the partner is the
    /// actor every record names, within the authorised scope.
    pub acting: Option<ActingPartner>,
}

/// The partner behind an assume-role token, and what the customer's authorisation lets it do.
#[derive(Debug, Clone)]
pub struct ActingPartner {
    pub partner_id: String,
    pub authorization_id: String,
    /// `order` or `order_and_resource`.
    pub scope: String,
}

impl CustomerCaller {
    /// Who acts: the partner behind an assume-role token, else the customer itself.
    pub fn actor_id(&self) -> &str {
        self.acting
            .as_ref()
            .map_or(&self.account_id, |a| &a.partner_id)
    }
    /// `partner` for an assume-role token, else `customer`.
    pub fn actor_kind(&self) -> &'static str {
        if self.acting.is_some() {
            "partner"
        } else {
            "customer"
        }
    }
}

#[derive(Debug, Clone)]
pub enum Caller {
    Partner(PartnerCaller),
    Customer(CustomerCaller),
}

impl Caller {
    pub fn account_id(&self) -> &str {
        match self {
            Caller::Partner(p) => &p.account_id,
            Caller::Customer(c) => &c.account_id,
        }
    }
    pub fn login_name(&self) -> &str {
        match self {
            Caller::Partner(p) => &p.login_name,
            Caller::Customer(c) => &c.login_name,
        }
    }
    /// The account whose credentials were used (an operator's own id).
    pub fn principal_id(&self) -> &str {
        match self {
            Caller::Partner(p) => p.actor_id(),
            Caller::Customer(c) => c.actor_id(),
        }
    }
}

fn bad_signature(why: &'static str) -> ApiError {
    ApiError::new(
        Code::SignatureInvalid,
        format!("Incorrect IAM authentication information: {why}"),
    )
}

fn bad_token(why: &'static str) -> ApiError {
    ApiError::new(
        Code::TokenInvalid,
        format!("Token authentication failed: {why}"),
    )
}

/// Loads the caller behind an active account.
pub async fn load_caller(app: &App, account_id: &str) -> ApiResult<Option<Caller>> {
    let mut conn = app.db.acquire().await?;
    let Some(acc) = db::accounts::find_caller_row(&mut conn, account_id).await? else {
        return Ok(None);
    };
    drop(conn);
    caller_of(app, acc).await
}

/// The caller of an account row; `None` when the account (or an operator's partner) is not
/// active. Partners and customers come whole with the row; operators need their organisation.
async fn caller_of(app: &App, acc: db::accounts::CallerRow) -> ApiResult<Option<Caller>> {
    let account_id = acc.id.as_str();
    if acc.status != "active" {
        return Ok(None);
    }
    let kind = AccountKind::parse(&acc.kind)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("bad kind")))?;
    Ok(Some(match kind {
        // The partner row came with the account: no second round trip.
        AccountKind::Partner => Caller::Partner(PartnerCaller {
            partner_type: acc
                .partner_type
                .as_deref()
                .and_then(PartnerType::parse)
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("partner row missing")))?,
            distributor_id: acc.distributor_id,
            xaccount_type: acc.xaccount_type.unwrap_or_default(),
            restricted: acc.restricted.unwrap_or(false),
            sandbox: acc.sandbox.unwrap_or(false),
            account_id: acc.id,
            login_name: acc.login_name,
            operator: None,
        }),
        AccountKind::Operator => {
            let mut conn = app.db.acquire().await?;
            let op = db::organisation::find_operator(&mut conn, account_id)
                .await?
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("operator row missing")))?;
            let partner = db::accounts::find_account(&mut conn, &op.partner_id)
                .await?
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("partner missing")))?;
            if partner.status != "active" {
                return Ok(None);
            }
            let scope = OperatorScope::parse(&op.scope)
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("bad operator scope")))?;
            let mut managers = vec![op.account_id.clone()];
            if scope == OperatorScope::Supervisor {
                managers.extend(
                    db::organisation::supervised_managers(&mut conn, &op.account_id).await?,
                );
            }
            let ctx = OperatorCtx {
                id: op.account_id,
                login_name: op.login_name,
                permissions: op.permissions.unwrap_or_default(),
                scope,
                managers,
            };
            Caller::Partner(
                partner_caller(&mut conn, partner.id, partner.login_name, Some(ctx)).await?,
            )
        }
        AccountKind::Customer => Caller::Customer(CustomerCaller {
            partner_id: acc.customer_partner_id,
            account_id: acc.id,
            login_name: acc.login_name,
            acting: None,
        }),
    }))
}

async fn partner_caller(
    conn: &mut sqlx::PgConnection,
    account_id: String,
    login_name: String,
    operator: Option<OperatorCtx>,
) -> ApiResult<PartnerCaller> {
    let p = db::partners::find_partner(conn, &account_id)
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("partner row missing")))?;
    Ok(PartnerCaller {
        account_id,
        login_name,
        partner_type: PartnerType::parse(&p.partner_type)
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("bad partner type")))?,
        distributor_id: p.distributor_id,
        xaccount_type: p.xaccount_type,
        restricted: p.restricted,
        sandbox: p.sandbox,
        operator,
    })
}

/// What the HTTP layer extracted from a signed request.
pub struct SignedRequest<'a> {
    pub authorization: &'a str,
    pub method: &'a str,
    pub raw_path: &'a str,
    pub raw_query: &'a str,
    /// Looks up a request header by lower-case name.
    pub header: &'a (dyn Fn(&str) -> Option<String> + Send + Sync),
    pub body: &'a [u8],
}

fn cache_bound(app: &App) -> std::time::Duration {
    std::time::Duration::from_millis(app.config.auth.caller_cache_ms)
}

/// The access key's secret, status and caller: from the caller cache when fresh, else one read
/// of the key with its account (plus the organisation for an operator).
async fn access_key_entry(app: &App, access_key: &str) -> ApiResult<Arc<KeyEntry>> {
    let bound = cache_bound(app);
    if let Some(e) = app.callers.key(access_key, bound) {
        return Ok(e);
    }
    let mut conn = app.db.acquire().await?;
    let key = db::accounts::find_access_key(&mut conn, access_key)
        .await?
        .ok_or_else(|| bad_signature("unknown access key"))?;
    drop(conn);
    let secret = app
        .secrets
        .open(&key.secret_nonce, &key.secret_ciphertext)
        .map_err(ApiError::internal)?;
    let active = key.status == "active";
    let caller = if active {
        caller_of(app, key.into_caller_row()).await?
    } else {
        None
    };
    let e = Arc::new(KeyEntry {
        active,
        secret,
        caller,
    });
    app.callers.put_key(access_key, e.clone(), bound);
    Ok(e)
}

/// Verifies an SDK-HMAC-SHA256 signature; returns the caller.
pub async fn verify_signature(app: &App, req: SignedRequest<'_>) -> ApiResult<Caller> {
    let auth = signing::parse_authorization(req.authorization)
        .ok_or_else(|| bad_signature("malformed Authorization header"))?;
    if !auth.signed_headers.iter().any(|h| h == "host")
        || !auth.signed_headers.iter().any(|h| h == "x-sdk-date")
    {
        return Err(bad_signature("host and x-sdk-date must be signed"));
    }
    let date = (req.header)("x-sdk-date").ok_or_else(|| bad_signature("X-Sdk-Date missing"))?;
    let when = NaiveDateTime::parse_from_str(date.trim(), signing::DATE_FORMAT)
        .map_err(|_| bad_signature("X-Sdk-Date malformed"))?
        .and_utc();
    // The clients' clock, also when a sandbox clock runs ahead.
    let skew = (app.clock.real_now() - when).num_seconds().abs();
    if skew > app.config.auth.signature_max_skew_secs {
        return Err(bad_signature("X-Sdk-Date outside the allowed time window"));
    }
    let mut headers = Vec::with_capacity(auth.signed_headers.len());
    for name in &auth.signed_headers {
        let value =
            (req.header)(name).ok_or_else(|| bad_signature("a signed header is missing"))?;
        headers.push((name.clone(), value));
    }
    let key = access_key_entry(app, &auth.access_key).await?;
    if !key.active {
        return Err(bad_signature("access key or account disabled"));
    }
    let creq = signing::canonical_request(&signing::CanonicalInput {
        method: req.method,
        raw_path: req.raw_path,
        raw_query: req.raw_query,
        headers: &headers,
        body: req.body,
    });
    let expected = signing::signature(&key.secret, &signing::string_to_sign(date.trim(), &creq));
    if !signing::signatures_match(&expected, &auth.signature) {
        return Err(bad_signature("signature mismatch"));
    }
    let caller = key
        .caller
        .clone()
        .ok_or_else(|| bad_signature("access key or account disabled"))?;
    // The SDK sends the domain (main account) id: the partner's, also for its operators.
    if let Some(domain) = (req.header)("x-domain-id") {
        if domain.trim() != caller.account_id() {
            return Err(bad_signature("X-Domain-Id does not match the access key"));
        }
    }
    Ok(caller)
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    aud: String,
    iss: String,
    iat: i64,
    exp: i64,
    jti: String,
    /// The account's token version at issue (tokens from before the version existed: 0).
    #[serde(default)]
    ver: i64,
    /// Assume-role tokens: the authorisation that lets the partner act as the customer (`sub`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    azn: Option<String>,
    /// Assume-role tokens: the partner acting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    act: Option<String>,
}

impl Claims {
    fn new(app: &App, sub: &str, iat: DateTime<Utc>, exp: DateTime<Utc>, ver: i64) -> Claims {
        Claims {
            sub: sub.to_string(),
            aud: app.config.auth.token_audience.clone(),
            iss: TOKEN_ISSUER.into(),
            iat: iat.timestamp(),
            exp: exp.timestamp(),
            jti: uuid::Uuid::new_v4().simple().to_string(),
            ver,
            azn: None,
            act: None,
        }
    }
}

/// Slack for clock differences when checking that a token does not outlive the configured TTL.
const TOKEN_CLOCK_SLACK_SECS: i64 = 60;

pub const TOKEN_ISSUER: &str = "partner-center";

pub struct IssuedToken {
    pub token: String,
    /// The user: the account itself, or an operator.
    pub account_id: String,
    pub login_name: String,
    /// The domain (main account): the account itself, or an operator's partner.
    pub domain_id: String,
    pub domain_name: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Issues an IAM-compatible token for a user name / password / domain name triple. Main accounts
/// only: the user name and the domain name are both the account's login name.
pub async fn issue_token(
    app: &App,
    user_name: &str,
    password: &str,
    domain_name: Option<&str>,
    domain_id: Option<&str>,
) -> ApiResult<IssuedToken> {
    let denied = || bad_token("the user name, password or domain is wrong");
    let mut conn = app.db.acquire().await?;
    let acc = db::accounts::find_account_by_login(&mut conn, user_name)
        .await?
        .ok_or_else(denied)?;
    let (dom_id, dom_name) = if acc.kind == "operator" {
        let op = db::organisation::find_operator(&mut conn, &acc.id)
            .await?
            .ok_or_else(denied)?;
        let partner = db::accounts::find_account(&mut conn, &op.partner_id)
            .await?
            .ok_or_else(denied)?;
        (partner.id, partner.login_name)
    } else {
        (acc.id.clone(), acc.login_name.clone())
    };
    drop(conn);
    if let Some(d) = domain_name {
        if !d.eq_ignore_ascii_case(&dom_name) {
            return Err(denied());
        }
    }
    if let Some(d) = domain_id {
        if d != dom_id {
            return Err(denied());
        }
    }
    let hash = acc.password_hash.as_deref().ok_or_else(denied)?;
    let hash = hash.to_string();
    let pw = password.to_string();
    let ok = tokio::task::spawn_blocking(move || crypto::verify_password(&pw, &hash))
        .await
        .map_err(ApiError::internal)?;
    if !ok {
        return Err(denied());
    }
    if acc.status != "active" {
        return Err(bad_token("the account is disabled"));
    }
    let mut conn = app.db.acquire().await?;
    let ver = db::accounts::token_version(&mut conn, &acc.id)
        .await?
        .ok_or_else(denied)?;
    drop(conn);
    let issued_at = app.now();
    let expires_at = issued_at + Duration::seconds(app.config.auth.token_ttl_secs);
    let token = sign_claims(app, &Claims::new(app, &acc.id, issued_at, expires_at, ver))?;
    Ok(IssuedToken {
        token,
        account_id: acc.id,
        login_name: acc.login_name,
        domain_id: dom_id,
        domain_name: dom_name,
        issued_at,
        expires_at,
    })
}

fn sign_claims(app: &App, claims: &Claims) -> ApiResult<String> {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(app.config.auth.token_key.expose().as_bytes()),
    )
    .map_err(ApiError::internal)
}

/// Which customer an assume-role request names.
pub enum AssumedDomain<'a> {
    Id(&'a str),
    Name(&'a str),
}

pub struct AssumedToken {
    pub token: String,
    pub customer_id: String,
    pub customer_login: String,
    pub authorization_id: String,
    pub scope: Scope,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Issues an assume-role token: the partner (main account) acts as one of its resale customers
/// while an approved, unexpired authorisation of that customer exists (else 403 CBC.99014005).
/// The token lives `duration_secs`, never longer than `auth.token_ttl_secs` nor than the
/// authorisation.
pub async fn issue_assumed_token(
    app: &App,
    partner: &PartnerCaller,
    domain: AssumedDomain<'_>,
    duration_secs: i64,
) -> ApiResult<AssumedToken> {
    let mut conn = app.db.acquire().await?;
    let account = match domain {
        AssumedDomain::Id(id) => db::accounts::find_account(&mut conn, id).await?,
        AssumedDomain::Name(name) => db::accounts::find_account_by_login(&mut conn, name).await?,
    }
    .filter(|a| a.kind == "customer" && a.status == "active")
    .ok_or_else(authorizations::no_authorization)?;
    let ver = db::accounts::token_version(&mut conn, &account.id)
        .await?
        .ok_or_else(authorizations::no_authorization)?;
    drop(conn);
    let (authorization_id, scope, until) =
        authorizations::grant_to_assume(app, &partner.account_id, &account.id).await?;
    let issued_at = app.now();
    let mut expires_at =
        issued_at + Duration::seconds(duration_secs.min(app.config.auth.token_ttl_secs));
    if let Some(until) = until {
        expires_at = expires_at.min(until);
    }
    let claims = Claims {
        azn: Some(authorization_id.clone()),
        act: Some(partner.account_id.clone()),
        ..Claims::new(app, &account.id, issued_at, expires_at, ver)
    };
    Ok(AssumedToken {
        token: sign_claims(app, &claims)?,
        customer_id: account.id,
        customer_login: account.login_name,
        authorization_id,
        scope,
        issued_at,
        expires_at,
    })
}

/// Verifies an `X-Auth-Token`: HS256 only, our audience and issuer, not expired by the app clock,
/// and the account still active.
pub async fn verify_token(app: &App, token: &str) -> ApiResult<Caller> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[app.config.auth.token_audience.as_str()]);
    validation.set_issuer(&[TOKEN_ISSUER]);
    validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
    // Expiry is checked against the application clock below, so tests can move time.
    validation.validate_exp = false;
    let data = jsonwebtoken::decode::<Claims>(
        token.trim(),
        &DecodingKey::from_secret(app.config.auth.token_key.expose().as_bytes()),
        &validation,
    )
    .map_err(|_| bad_token("the token is invalid"))?;
    let now = app.now().timestamp();
    let c = &data.claims;
    if c.exp <= now {
        return Err(bad_token("the token has expired"));
    }
    // A token is never valid for longer than this server issues them for.
    let ttl = app.config.auth.token_ttl_secs;
    if c.exp - c.iat > ttl || c.exp > now + ttl + TOKEN_CLOCK_SLACK_SECS {
        return Err(bad_token("the token outlives the allowed lifetime"));
    }
    if c.sub.contains('\0') {
        return Err(bad_token("the token is invalid"));
    }
    let bound = cache_bound(app);
    let entry = match app.callers.token(&c.sub, bound) {
        Some(e) => e,
        None => {
            let mut conn = app.db.acquire().await?;
            let version = db::accounts::token_version(&mut conn, &c.sub).await?;
            drop(conn);
            let caller = match version {
                Some(_) => load_caller(app, &c.sub).await?,
                None => None,
            };
            let e = TokenEntry { version, caller };
            app.callers.put_token(&c.sub, e.clone(), bound);
            e
        }
    };
    if entry.version != Some(c.ver) {
        return Err(bad_token(
            "the token was revoked (password changed or account disabled)",
        ));
    }
    let caller = entry
        .caller
        .ok_or_else(|| bad_token("the account is disabled"))?;
    match (&c.azn, &c.act, caller) {
        (None, None, caller) => Ok(caller),
        // An assume-role token: the customer, acting for the partner while the authorisation
        // is in force (re-read on every request, so a revocation is immediate everywhere).
        (Some(azn), Some(act), Caller::Customer(mut customer)) => {
            let scope = authorizations::check_grant(app, azn, act, &c.sub).await?;
            customer.acting = Some(ActingPartner {
                partner_id: act.clone(),
                authorization_id: azn.clone(),
                scope: scope.as_str().to_string(),
            });
            Ok(Caller::Customer(customer))
        }
        _ => Err(bad_token("the token is invalid")),
    }
}
