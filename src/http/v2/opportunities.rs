//! Opportunities (extension, issue 12): partner-reported (PO, 商机报备) and vendor-shared (HO).
//! Updates of an existing opportunity carry `If-Match: <etag>`.

use axum::{
    extract::{Path, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    db::opportunities::{EventRow, Filter, OpportunityRow},
    domain::{
        selling::{self, Action, Status},
        time::format_ts,
    },
    error::{ApiError, ApiResult},
    http::{
        extract::{ApiJson, ApiQuery, Paging},
        v2::{
            funding::{parse_non_negative, YuanNumber},
            max_len, non_empty, time_bound,
        },
        ErrorBody,
    },
    service::{
        auth::PartnerCaller,
        opportunities::{self as svc, Fields, NewPo, Subject},
    },
    state::AppState,
};

#[derive(Debug, Deserialize, ToSchema)]
pub struct Prospect {
    /// The prospect's (company) name, 1–128 characters.
    pub name: String,
    pub industry: Option<String>,
}

/// The body of creating (POST) or updating (PUT) an opportunity; on an update every field is
/// optional and only the given ones change.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OpportunityInput {
    /// Only `POST /admin/v1/opportunities`: the partner the vendor shares it with.
    pub partner_id: Option<String>,
    /// A sub-customer (or, for a distributor, a reseller's customer with `indirect_partner_id`);
    /// exactly one of `customer_id` and `prospect`.
    pub customer_id: Option<String>,
    pub indirect_partner_id: Option<String>,
    pub prospect: Option<Prospect>,
    /// Required on create, 1–200 characters.
    pub title: Option<String>,
    pub industry: Option<String>,
    pub opportunity_type: Option<String>,
    pub stage: Option<String>,
    /// 把握度, 0–100.
    pub confidence: Option<i64>,
    /// Yuan, ≥ 0, at most two decimals.
    #[schema(value_type = Option<f64>)]
    pub expected_monthly_revenue: Option<serde_json::Number>,
    /// `yyyy-MM-dd`.
    pub expected_close_date: Option<String>,
    /// The product line the duplicate rule compares (with the customer).
    pub product_line: Option<String>,
    pub products: Option<Vec<String>>,
    pub description: Option<String>,
    pub next_step: Option<String>,
    pub technical_exchange: Option<String>,
    pub test_status: Option<String>,
    /// PO create: must be `true` (the customer agreed to be reported).
    pub customer_consent: Option<bool>,
}

fn text(field: &str, v: Option<String>, max: usize) -> ApiResult<Option<String>> {
    max_len(field, v.as_deref(), max)?;
    Ok(v)
}

impl OpportunityInput {
    /// The checked fields (without subject, partner and consent).
    pub fn fields(&self) -> ApiResult<Fields> {
        let title = text("title", self.title.clone(), 200)?;
        if title.as_deref().is_some_and(|t| t.trim().is_empty()) {
            return Err(ApiError::invalid("title", "must not be empty"));
        }
        let confidence = match self.confidence {
            None => None,
            Some(c) if selling::valid_confidence(c) => Some(c as i16),
            Some(_) => return Err(ApiError::invalid("confidence", "must be between 0 and 100")),
        };
        let revenue = match &self.expected_monthly_revenue {
            None => None,
            Some(n) => Some(parse_non_negative("expected_monthly_revenue", n)?),
        };
        let close_date = match self.expected_close_date.as_deref() {
            None => None,
            Some(s) => Some(
                NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .map_err(|_| ApiError::invalid("expected_close_date", "must be yyyy-MM-dd"))?,
            ),
        };
        if let Some(ps) = &self.products {
            if ps.len() > 50 || ps.iter().any(|p| p.is_empty() || p.chars().count() > 64) {
                return Err(ApiError::invalid(
                    "products",
                    "at most 50 product ids of 1 to 64 characters",
                ));
            }
        }
        Ok(Fields {
            title,
            industry: text("industry", self.industry.clone(), 64)?,
            opportunity_type: text("opportunity_type", self.opportunity_type.clone(), 64)?,
            stage: text("stage", self.stage.clone(), 64)?,
            confidence,
            expected_monthly_revenue: revenue,
            expected_close_date: close_date,
            product_line: text("product_line", self.product_line.clone(), 64)?,
            products: self.products.clone(),
            description: text("description", self.description.clone(), 2000)?,
            next_step: text("next_step", self.next_step.clone(), 500)?,
            technical_exchange: text("technical_exchange", self.technical_exchange.clone(), 2000)?,
            test_status: text("test_status", self.test_status.clone(), 64)?,
        })
    }

    /// The customer or prospect; `None` when neither is given.
    pub fn subject(&self) -> ApiResult<Option<Subject>> {
        let customer_id = non_empty(self.customer_id.clone());
        max_len("customer_id", customer_id.as_deref(), 64)?;
        let indirect = non_empty(self.indirect_partner_id.clone());
        max_len("indirect_partner_id", indirect.as_deref(), 64)?;
        match (customer_id, &self.prospect) {
            (Some(_), Some(_)) => Err(ApiError::invalid(
                "prospect",
                "give either customer_id or prospect, not both",
            )),
            (Some(customer_id), None) => Ok(Some(Subject::Customer {
                customer_id,
                indirect_partner_id: indirect,
            })),
            (None, Some(p)) => {
                if p.name.trim().is_empty() {
                    return Err(ApiError::invalid("prospect.name", "must not be empty"));
                }
                max_len("prospect.name", Some(&p.name), 128)?;
                max_len("prospect.industry", p.industry.as_deref(), 64)?;
                if indirect.is_some() {
                    return Err(ApiError::invalid(
                        "indirect_partner_id",
                        "only with a customer_id",
                    ));
                }
                Ok(Some(Subject::Prospect {
                    name: p.name.trim().to_string(),
                    industry: p.industry.clone(),
                }))
            }
            (None, None) if indirect.is_some() => Err(ApiError::invalid(
                "customer_id",
                "is required with indirect_partner_id",
            )),
            (None, None) => Ok(None),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProspectView {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub industry: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryEntry {
    /// `create` | `edit` | `submit` | `approve` | `reject` | `accept` | `decline` | `expire` |
    /// `progress` | `win` | `lose`.
    pub action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_status: Option<String>,
    pub to_status: String,
    /// `partner` | `operator` | `vendor` | `system`.
    pub actor_kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The fields this step set, with their new values.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub changes: Option<serde_json::Value>,
    pub time: String,
}

impl From<EventRow> for HistoryEntry {
    fn from(e: EventRow) -> Self {
        HistoryEntry {
            action: e.action,
            from_status: e.from_status,
            to_status: e.to_status,
            actor_kind: e.actor_kind,
            actor_id: e.actor_id,
            reason: e.reason,
            changes: e.changes,
            time: format_ts(e.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Opportunity {
    pub opportunity_id: String,
    /// `PO` | `HO`.
    pub origin: String,
    /// PO: `DRAFT` → `SUBMITTED` → `APPROVED` | `REJECTED` (editable, resubmittable) |
    /// `DUPLICATE`; HO: `PENDING_ACCEPTANCE` → `ACCEPTED` | `DECLINED` | `EXPIRED` | `DUPLICATE`;
    /// approved/accepted → `WON` | `LOST`.
    pub status: String,
    /// The version tag to send as `If-Match` (also the `ETag` header).
    pub etag: String,
    pub partner_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub indirect_partner_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prospect: Option<ProspectView>,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub industry: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opportunity_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<i16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub expected_monthly_revenue: Option<YuanNumber>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_close_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_line: Option<String>,
    pub products: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_step: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub technical_exchange: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_status: Option<String>,
    pub customer_consent: bool,
    /// The responsible customer manager (operator id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manager_id: Option<String>,
    /// The vendor's rejection, the partner's decline, or the close reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For `DUPLICATE`: the earlier registration that won.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
    /// HO: answer before this instant (3 working days, Beijing calendar).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accept_deadline: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Only on `GET …/{opportunity_id}`: every step, oldest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<HistoryEntry>>,
}

impl From<OpportunityRow> for Opportunity {
    fn from(o: OpportunityRow) -> Self {
        Opportunity {
            etag: svc::etag(&o),
            opportunity_id: o.id,
            origin: o.origin,
            status: o.status,
            partner_id: o.partner_id,
            customer_id: o.customer_id,
            indirect_partner_id: o.indirect_partner_id,
            prospect: o.prospect_name.map(|name| ProspectView {
                name,
                industry: o.prospect_industry,
            }),
            title: o.title,
            industry: o.industry,
            opportunity_type: o.opportunity_type,
            stage: o.stage,
            confidence: o.confidence,
            expected_monthly_revenue: o.expected_monthly_revenue.map(YuanNumber),
            expected_close_date: o.expected_close_date.map(|d| d.to_string()),
            product_line: o.product_line,
            products: o.products,
            description: o.description,
            next_step: o.next_step,
            technical_exchange: o.technical_exchange,
            test_status: o.test_status,
            customer_consent: o.customer_consent,
            manager_id: o.manager_id,
            reason: o.reason,
            duplicate_of: o.duplicate_of,
            accept_deadline: o.accept_deadline.map(format_ts),
            approved_at: o.approved_at.map(format_ts),
            closed_at: o.closed_at.map(format_ts),
            created_at: format_ts(o.created_at),
            updated_at: format_ts(o.updated_at),
            history: None,
        }
    }
}

/// The opportunity as JSON with its `ETag` header.
pub fn respond(status: StatusCode, o: Opportunity) -> Response {
    let tag = HeaderValue::from_str(&o.etag).ok();
    let mut resp = (status, Json(o)).into_response();
    if let Some(t) = tag {
        resp.headers_mut().insert(header::ETAG, t);
    }
    resp
}

pub fn with_history(o: OpportunityRow, events: Vec<EventRow>) -> Opportunity {
    let mut v = Opportunity::from(o);
    v.history = Some(events.into_iter().map(HistoryEntry::from).collect());
    v
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpportunityList {
    pub total_count: i64,
    pub opportunities: Vec<Opportunity>,
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OpportunityListQuery {
    /// `PO` | `HO`.
    pub origin: Option<String>,
    pub status: Option<String>,
    pub stage: Option<String>,
    pub customer_id: Option<String>,
    /// The responsible manager (operator id).
    pub manager_id: Option<String>,
    /// Only on `GET /admin/v1/opportunities`.
    pub partner_id: Option<String>,
    /// UTC `yyyy-MM-ddTHH:mm:ssZ`, inclusive.
    pub updated_from: Option<String>,
    /// UTC `yyyy-MM-ddTHH:mm:ssZ`, inclusive.
    pub updated_to: Option<String>,
    pub offset: Option<i64>,
    /// 1–100, default 10.
    pub limit: Option<i64>,
}

impl OpportunityListQuery {
    pub fn filter(self) -> ApiResult<(Filter, Paging)> {
        let paging = Paging::new(self.offset, self.limit, i32::MAX as i64)?;
        let origin = non_empty(self.origin);
        if origin
            .as_deref()
            .is_some_and(|o| selling::Origin::parse(o).is_none())
        {
            return Err(ApiError::invalid("origin", "must be PO or HO"));
        }
        let status = non_empty(self.status);
        if status
            .as_deref()
            .is_some_and(|s| Status::parse(s).is_none())
        {
            return Err(ApiError::invalid("status", "is not an opportunity status"));
        }
        let f = Filter {
            partner_id: non_empty(self.partner_id),
            origin,
            status,
            stage: text("stage", non_empty(self.stage), 64)?,
            customer_id: text("customer_id", non_empty(self.customer_id), 64)?,
            manager_id: text("manager_id", non_empty(self.manager_id), 64)?,
            managers: None,
            updated_from: time_bound("updated_from", non_empty(self.updated_from).as_deref())?,
            updated_to: time_bound("updated_to", non_empty(self.updated_to).as_deref())?,
        };
        Ok((f, paging))
    }
}

pub fn list_body(total_count: i64, rows: Vec<OpportunityRow>) -> OpportunityList {
    OpportunityList {
        total_count,
        opportunities: rows.into_iter().map(Opportunity::from).collect(),
    }
}

/// Report an opportunity (PO), saved as `DRAFT`.
#[utoipa::path(post, path = "/v2/partners/opportunities", tag = "selling",
    request_body = OpportunityInput,
    responses((status = 201, body = Opportunity), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn create_opportunity(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiJson(req): ApiJson<OpportunityInput>,
) -> ApiResult<Response> {
    if req.partner_id.is_some() {
        return Err(ApiError::invalid(
            "partner_id",
            "is set by your credentials",
        ));
    }
    let fields = req.fields()?;
    if fields.title.is_none() {
        return Err(ApiError::invalid("title", "is required"));
    }
    let subject = req
        .subject()?
        .ok_or_else(|| ApiError::invalid("customer_id", "give a customer_id or a prospect"))?;
    let o = svc::create_po(
        &app,
        &caller,
        NewPo {
            subject,
            fields,
            customer_consent: req.customer_consent.unwrap_or(false),
        },
    )
    .await?;
    Ok(respond(StatusCode::CREATED, o.into()))
}

/// The caller's opportunities, newest-updated first (a manager's own; a supervisor's managers').
#[utoipa::path(get, path = "/v2/partners/opportunities", tag = "selling",
    params(OpportunityListQuery),
    responses((status = 200, body = OpportunityList), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_opportunities(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiQuery(q): ApiQuery<OpportunityListQuery>,
) -> ApiResult<Json<OpportunityList>> {
    if q.partner_id.is_some() {
        return Err(ApiError::invalid(
            "partner_id",
            "is set by your credentials",
        ));
    }
    let (f, paging) = q.filter()?;
    let (total, rows) =
        svc::list_for_partner(&app, &caller, f, paging.offset, paging.limit).await?;
    Ok(Json(list_body(total, rows)))
}

/// One opportunity with its history.
#[utoipa::path(get, path = "/v2/partners/opportunities/{opportunity_id}", tag = "selling",
    params(("opportunity_id" = String, Path)),
    responses((status = 200, body = Opportunity), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn show_opportunity(
    State(app): State<AppState>,
    caller: PartnerCaller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (o, events) = svc::get_for_partner(&app, &caller, &id).await?;
    Ok(respond(StatusCode::OK, with_history(o, events)))
}

fn if_match(headers: &HeaderMap) -> ApiResult<Option<String>> {
    match headers.get(header::IF_MATCH) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .map(|s| Some(s.to_string()))
            .map_err(|_| ApiError::invalid("If-Match", "must be visible ASCII")),
    }
}

/// Edit a `DRAFT`/`REJECTED` PO, or update the progress of an approved PO / accepted HO (stage,
/// confidence, revenue, close date, description, next step, technical exchange, test status).
/// Needs `If-Match` (428 without, 412 when stale).
#[utoipa::path(put, path = "/v2/partners/opportunities/{opportunity_id}", tag = "selling",
    params(("opportunity_id" = String, Path), ("If-Match" = String, Header, description = "the etag")),
    request_body = OpportunityInput,
    responses((status = 200, body = Opportunity), (status = 412, body = ErrorBody),
        (status = 428, body = ErrorBody), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn update_opportunity(
    State(app): State<AppState>,
    caller: PartnerCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<OpportunityInput>,
) -> ApiResult<Response> {
    if req.partner_id.is_some() || req.customer_consent == Some(false) {
        return Err(ApiError::invalid(
            if req.partner_id.is_some() {
                "partner_id"
            } else {
                "customer_consent"
            },
            "cannot change",
        ));
    }
    let fields = req.fields()?;
    let subject = req.subject()?;
    let im = if_match(&headers)?;
    let o = svc::update(&app, &caller, &id, im.as_deref(), fields, subject).await?;
    Ok(respond(StatusCode::OK, o.into()))
}

#[derive(Debug, Deserialize, ToSchema, Default)]
pub struct ReasonRequest {
    /// Required to reject or decline, 1–500 characters.
    pub reason: Option<String>,
}

fn reason(r: Option<String>, required: bool) -> ApiResult<Option<String>> {
    let r = non_empty(r);
    if required && r.as_deref().is_none_or(|s| s.trim().is_empty()) {
        return Err(ApiError::invalid("reason", "is required"));
    }
    max_len("reason", r.as_deref(), 500)?;
    Ok(r)
}

async fn transition(
    app: &AppState,
    caller: &PartnerCaller,
    id: &str,
    headers: &HeaderMap,
    action: Action,
    why: Option<String>,
) -> ApiResult<Response> {
    let im = if_match(headers)?;
    let o = svc::partner_transition(app, caller, id, im.as_deref(), action, why).await?;
    Ok(respond(StatusCode::OK, o.into()))
}

/// Submit a `DRAFT` or `REJECTED` PO for the vendor's review (`If-Match` checked when sent).
#[utoipa::path(post, path = "/v2/partners/opportunities/{opportunity_id}/submit", tag = "selling",
    params(("opportunity_id" = String, Path)),
    responses((status = 200, body = Opportunity), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn submit_opportunity(
    State(app): State<AppState>,
    caller: PartnerCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    transition(&app, &caller, &id, &headers, Action::Submit, None).await
}

/// Accept a shared HO before its `accept_deadline` (after it: `CBC.99012003`).
#[utoipa::path(post, path = "/v2/partners/opportunities/{opportunity_id}/accept", tag = "selling",
    params(("opportunity_id" = String, Path)),
    responses((status = 200, body = Opportunity), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn accept_opportunity(
    State(app): State<AppState>,
    caller: PartnerCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    transition(&app, &caller, &id, &headers, Action::Accept, None).await
}

/// Decline a shared HO with a reason (`DECLINED`).
#[utoipa::path(post, path = "/v2/partners/opportunities/{opportunity_id}/reject", tag = "selling",
    params(("opportunity_id" = String, Path)), request_body = ReasonRequest,
    responses((status = 200, body = Opportunity), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn decline_opportunity(
    State(app): State<AppState>,
    caller: PartnerCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<ReasonRequest>,
) -> ApiResult<Response> {
    let why = reason(req.reason, true)?;
    transition(&app, &caller, &id, &headers, Action::Decline, why).await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CloseRequest {
    /// `WON` | `LOST`.
    pub result: String,
    /// 1–500 characters.
    pub reason: Option<String>,
}

/// Close an approved PO / accepted HO as `WON` or `LOST` with a reason. Needs `If-Match`.
#[utoipa::path(post, path = "/v2/partners/opportunities/{opportunity_id}/close", tag = "selling",
    params(("opportunity_id" = String, Path), ("If-Match" = String, Header, description = "the etag")),
    request_body = CloseRequest,
    responses((status = 200, body = Opportunity), (status = 412, body = ErrorBody),
        (status = 428, body = ErrorBody), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn close_opportunity(
    State(app): State<AppState>,
    caller: PartnerCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<CloseRequest>,
) -> ApiResult<Response> {
    let action = match req.result.as_str() {
        "WON" => Action::Win,
        "LOST" => Action::Lose,
        _ => return Err(ApiError::invalid("result", "must be WON or LOST")),
    };
    let why = reason(req.reason, true)?;
    transition(&app, &caller, &id, &headers, action, why).await
}
