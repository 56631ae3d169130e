//! Leads (extension, issue 12): vendor-dispatched and the partner's own; assign, follow up,
//! convert to a sub-customer or an opportunity, close.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    Json,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    db::leads::Filter,
    domain::time::format_ts,
    error::{ApiError, ApiResult},
    http::{
        extract::{ApiJson, ApiQuery, Paging},
        v2::{
            customers::{new_sub_customer, CreateCustomerV2Req},
            max_len, non_empty,
            opportunities::OpportunityInput,
        },
        ErrorBody,
    },
    service::{
        auth::PartnerCaller,
        leads::{self as svc, LeadView, NewLead},
    },
    state::AppState,
};

#[derive(Debug, Deserialize, ToSchema)]
pub struct LeadInput {
    /// Only `POST /admin/v1/leads`: the partner it is dispatched to.
    pub partner_id: Option<String>,
    /// The company (or person), 1–128 characters.
    pub company: String,
    pub contact_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub industry: Option<String>,
    pub description: Option<String>,
}

impl LeadInput {
    pub fn checked(self) -> ApiResult<(Option<String>, NewLead)> {
        if self.company.trim().is_empty() {
            return Err(ApiError::invalid("company", "must not be empty"));
        }
        max_len("company", Some(&self.company), 128)?;
        max_len("contact_name", self.contact_name.as_deref(), 64)?;
        max_len("phone", self.phone.as_deref(), 32)?;
        max_len("email", self.email.as_deref(), 128)?;
        max_len("industry", self.industry.as_deref(), 64)?;
        max_len("description", self.description.as_deref(), 2000)?;
        if self.email.as_deref().is_some_and(|e| !e.contains('@')) {
            return Err(ApiError::invalid("email", "is not an e-mail address"));
        }
        Ok((
            non_empty(self.partner_id),
            NewLead {
                company: self.company.trim().to_string(),
                contact_name: non_empty(self.contact_name),
                phone: non_empty(self.phone),
                email: non_empty(self.email),
                industry: non_empty(self.industry),
                description: non_empty(self.description),
            },
        ))
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FollowUp {
    pub actor_id: String,
    pub content: String,
    pub time: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Lead {
    pub lead_id: String,
    /// `VENDOR` (dispatched) | `OWN`.
    pub origin: String,
    /// `NEW` → `FOLLOWING` → `CONVERTED` | `CLOSED`.
    pub status: String,
    pub company: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_name: Option<String>,
    /// Masked (`138****5678`) for partners in marketing plan 2.0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Masked (`a***@example.com`) for partners in marketing plan 2.0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub contact_masked: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub industry: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manager_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub converted_customer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub converted_opportunity_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub close_reason: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Only on `GET …/{lead_id}` and after a follow-up: oldest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow_ups: Option<Vec<FollowUp>>,
}

impl From<LeadView> for Lead {
    fn from(v: LeadView) -> Self {
        let l = v.lead;
        Lead {
            lead_id: l.id,
            origin: l.origin,
            status: l.status,
            company: l.company,
            contact_name: l.contact_name,
            phone: l.phone,
            email: l.email,
            contact_masked: v.masked,
            industry: l.industry,
            description: l.description,
            manager_id: l.manager_id,
            converted_customer_id: l.converted_customer_id,
            converted_opportunity_id: l.converted_opportunity_id,
            close_reason: l.close_reason,
            created_at: format_ts(l.created_at),
            updated_at: format_ts(l.updated_at),
            follow_ups: v.follow_ups.map(|f| {
                f.into_iter()
                    .map(|f| FollowUp {
                        actor_id: f.actor_id,
                        content: f.content,
                        time: format_ts(f.created_at),
                    })
                    .collect()
            }),
        }
    }
}

/// Record a lead of the partner's own (`OWN`, `NEW`; a manager's is assigned to itself).
#[utoipa::path(post, path = "/v2/partners/leads", tag = "selling", request_body = LeadInput,
    responses((status = 201, body = Lead), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn create_lead(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiJson(req): ApiJson<LeadInput>,
) -> ApiResult<(StatusCode, Json<Lead>)> {
    let (partner_id, input) = req.checked()?;
    if partner_id.is_some() {
        return Err(ApiError::invalid(
            "partner_id",
            "is set by your credentials",
        ));
    }
    let v = svc::create_own(&app, &caller, input).await?;
    Ok((StatusCode::CREATED, Json(v.into())))
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LeadListQuery {
    /// `NEW` | `FOLLOWING` | `CONVERTED` | `CLOSED`.
    pub status: Option<String>,
    /// `VENDOR` | `OWN`.
    pub origin: Option<String>,
    pub manager_id: Option<String>,
    pub offset: Option<i64>,
    /// 1–100, default 10.
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LeadList {
    pub total_count: i64,
    pub leads: Vec<Lead>,
}

/// The partner's leads (a manager's own, a supervisor's managers'), newest-updated first.
#[utoipa::path(get, path = "/v2/partners/leads", tag = "selling", params(LeadListQuery),
    responses((status = 200, body = LeadList), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_leads(
    State(app): State<AppState>,
    caller: PartnerCaller,
    ApiQuery(q): ApiQuery<LeadListQuery>,
) -> ApiResult<Json<LeadList>> {
    let paging = Paging::new(q.offset, q.limit, i32::MAX as i64)?;
    let status = non_empty(q.status);
    if status
        .as_deref()
        .is_some_and(|s| !matches!(s, "NEW" | "FOLLOWING" | "CONVERTED" | "CLOSED"))
    {
        return Err(ApiError::invalid(
            "status",
            "must be NEW, FOLLOWING, CONVERTED or CLOSED",
        ));
    }
    let origin = non_empty(q.origin);
    if origin
        .as_deref()
        .is_some_and(|s| !matches!(s, "VENDOR" | "OWN"))
    {
        return Err(ApiError::invalid("origin", "must be VENDOR or OWN"));
    }
    let manager_id = non_empty(q.manager_id);
    max_len("manager_id", manager_id.as_deref(), 64)?;
    let filter = Filter {
        status,
        origin,
        manager_id,
        ..Default::default()
    };
    let (total, views, _) = svc::list(&app, &caller, filter, paging.offset, paging.limit).await?;
    Ok(Json(LeadList {
        total_count: total,
        leads: views.into_iter().map(Lead::from).collect(),
    }))
}

/// One lead with its follow-ups.
#[utoipa::path(get, path = "/v2/partners/leads/{lead_id}", tag = "selling",
    params(("lead_id" = String, Path)),
    responses((status = 200, body = Lead), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn show_lead(
    State(app): State<AppState>,
    caller: PartnerCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Lead>> {
    Ok(Json(svc::get(&app, &caller, &id).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AssignLeadRequest {
    /// A customer manager (operator id); `null` unassigns.
    pub manager_id: Option<String>,
}

/// Assign an open lead to a customer manager.
#[utoipa::path(post, path = "/v2/partners/leads/{lead_id}/assign", tag = "selling",
    params(("lead_id" = String, Path)), request_body = AssignLeadRequest,
    responses((status = 200, body = Lead), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn assign_lead(
    State(app): State<AppState>,
    caller: PartnerCaller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<AssignLeadRequest>,
) -> ApiResult<Json<Lead>> {
    let m = non_empty(req.manager_id);
    max_len("manager_id", m.as_deref(), 64)?;
    Ok(Json(
        svc::assign(&app, &caller, &id, m.as_deref()).await?.into(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct FollowUpRequest {
    /// 1–2000 characters.
    pub content: String,
}

/// Record a follow-up of an open lead (it becomes `FOLLOWING`).
#[utoipa::path(post, path = "/v2/partners/leads/{lead_id}/follow-ups", tag = "selling",
    params(("lead_id" = String, Path)), request_body = FollowUpRequest,
    responses((status = 200, body = Lead), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn follow_up_lead(
    State(app): State<AppState>,
    caller: PartnerCaller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<FollowUpRequest>,
) -> ApiResult<Json<Lead>> {
    if req.content.trim().is_empty() {
        return Err(ApiError::invalid("content", "must not be empty"));
    }
    max_len("content", Some(&req.content), 2000)?;
    Ok(Json(
        svc::follow_up(&app, &caller, &id, &req.content)
            .await?
            .into(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ConvertLeadRequest {
    /// `customer` | `opportunity`.
    pub target: String,
    /// For `customer`: the create-sub-customer body (`POST /v2/partners/sub-customers`).
    pub customer: Option<CreateCustomerV2Req>,
    /// For `opportunity`: optional fields of the PO (`title` defaults to the company); the
    /// prospect is the lead's company.
    pub opportunity: Option<OpportunityInput>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConvertedLead {
    pub lead: Lead,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opportunity_id: Option<String>,
}

/// Convert an open lead into a sub-customer (through create-sub-customer) or a PO opportunity;
/// the lead becomes `CONVERTED` and keeps the link.
#[utoipa::path(post, path = "/v2/partners/leads/{lead_id}/convert", tag = "selling",
    params(("lead_id" = String, Path)), request_body = ConvertLeadRequest,
    responses((status = 200, body = ConvertedLead), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn convert_lead(
    State(app): State<AppState>,
    caller: PartnerCaller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ConvertLeadRequest>,
) -> ApiResult<Json<ConvertedLead>> {
    // The conversion also creates a customer or an opportunity: the operator needs that item too.
    let item = match req.target.as_str() {
        "customer" => "customer:create",
        _ => "opportunity:write",
    };
    if !caller.has_permission(item) {
        return Err(ApiError::new(
            crate::error::Code::AccessDenied,
            format!("Access denied: converting needs the permission item {item}."),
        ));
    }
    match req.target.as_str() {
        "customer" => {
            let body = req
                .customer
                .ok_or_else(|| ApiError::invalid("customer", "is required for target customer"))?;
            let v = svc::convert_to_customer(&app, &caller, &id, new_sub_customer(body)?).await?;
            let customer_id = v.lead.converted_customer_id.clone();
            Ok(Json(ConvertedLead {
                lead: v.into(),
                customer_id,
                opportunity_id: None,
            }))
        }
        "opportunity" => {
            let input = req.opportunity.unwrap_or_else(empty_opportunity);
            if input.partner_id.is_some() || input.customer_id.is_some() || input.prospect.is_some()
            {
                return Err(ApiError::invalid(
                    "opportunity",
                    "the prospect is the lead's company (no partner_id, customer_id or prospect)",
                ));
            }
            let (v, oid) = svc::convert_to_opportunity(&app, &caller, &id, input.fields()?).await?;
            Ok(Json(ConvertedLead {
                lead: v.into(),
                customer_id: None,
                opportunity_id: Some(oid),
            }))
        }
        _ => Err(ApiError::invalid(
            "target",
            "must be customer or opportunity",
        )),
    }
}

fn empty_opportunity() -> OpportunityInput {
    crate::http::extract::parse_json(b"{}").expect("every field is optional")
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CloseLeadRequest {
    /// 1–500 characters.
    pub reason: String,
}

/// Close an open lead with a reason.
#[utoipa::path(post, path = "/v2/partners/leads/{lead_id}/close", tag = "selling",
    params(("lead_id" = String, Path)), request_body = CloseLeadRequest,
    responses((status = 200, body = Lead), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn close_lead(
    State(app): State<AppState>,
    caller: PartnerCaller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<CloseLeadRequest>,
) -> ApiResult<Json<Lead>> {
    if req.reason.trim().is_empty() {
        return Err(ApiError::invalid("reason", "must not be empty"));
    }
    max_len("reason", Some(&req.reason), 500)?;
    Ok(Json(
        svc::close(&app, &caller, &id, &req.reason).await?.into(),
    ))
}
