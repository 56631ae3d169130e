//! Sub-customers: registration identity checks, creation and association, listing.

use crate::{
    crypto, db,
    domain::{self, validate, AssociationType},
    error::{codes, is_constraint, ApiError, ApiResult, Code},
    service::{accounts::insert_account, auth::PartnerCaller, partners, verification},
    state::App,
};

pub enum IdentityCheck {
    Email(String),
    Mobile(String),
    Name(String),
}

pub struct IdentityResult {
    pub available: bool,
    pub mobile_remaining: Option<i64>,
}

pub async fn check_identity(app: &App, check: IdentityCheck) -> ApiResult<IdentityResult> {
    let mut conn = app.db.acquire().await?;
    Ok(match check {
        IdentityCheck::Name(n) => IdentityResult {
            available: !db::accounts::login_name_taken(&mut conn, &n).await?,
            mobile_remaining: None,
        },
        IdentityCheck::Email(e) => IdentityResult {
            available: !db::accounts::email_taken(&mut conn, &e).await?,
            mobile_remaining: None,
        },
        IdentityCheck::Mobile(m) => {
            let used = db::accounts::count_customers_with_mobile(&mut conn, &m).await?;
            let remaining = (app.config.customers.mobile_registration_limit - used).max(0);
            IdentityResult {
                available: remaining > 0,
                mobile_remaining: Some(remaining),
            }
        }
    })
}

/// A validated create-sub-customer request.
pub struct NewSubCustomer {
    pub domain_name: Option<String>,
    pub mobile_phone: Option<String>,
    pub verification_code: Option<String>,
    pub xaccount_id: String,
    pub xaccount_type: String,
    pub password: Option<String>,
    pub is_close_market_ms: bool,
    pub association: AssociationType,
    pub indirect_partner_id: Option<String>,
}

pub struct CreatedCustomer {
    pub domain_id: String,
    pub domain_name: String,
}

fn restricted() -> ApiError {
    ApiError::business(
        codes::PARTNER_RESTRICTED,
        "The partner enterprise is restricted and cannot associate customers.",
    )
}

pub async fn create_sub_customer(
    app: &App,
    caller: &PartnerCaller,
    req: NewSubCustomer,
) -> ApiResult<CreatedCustomer> {
    if caller.sandbox {
        return Err(ApiError::business(
            codes::SANDBOX_PARTNER,
            "Test or sandbox partner accounts cannot use this API.",
        ));
    }
    if caller.restricted {
        return Err(restricted());
    }
    let mut conn = app.db.acquire().await?;
    let acting =
        partners::resolve_acting(&mut conn, caller, req.indirect_partner_id.as_deref()).await?;
    match &acting.reseller {
        None if caller.is_distributor() => {
            return Err(ApiError::business(
                codes::DISTRIBUTOR_MAY_NOT_ASSOCIATE,
                "A distributor may not associate sub-customers itself; pass indirect_partner_id.",
            ))
        }
        Some(reseller) if reseller.restricted => return Err(restricted()),
        Some(reseller) => {
            // A disabled reseller account cannot be authorised by a new customer.
            let active = db::accounts::find_account(&mut conn, &reseller.account_id)
                .await?
                .is_some_and(|a| a.status == "active");
            if !active {
                return Err(ApiError::business(
                    codes::CUSTOMER_AUTHORISATION_FAILED,
                    "The customer could not authorise the reseller (the reseller account is disabled).",
                ));
            }
        }
        _ => {}
    }
    // A reseller (calling itself, or through its distributor) depends on its distributor's state.
    let distributor_id = match &acting.reseller {
        Some(r) => r.distributor_id.clone(),
        None => caller.distributor_id.clone(),
    };
    if let Some(d) = distributor_id {
        let dist = db::partners::find_partner(&mut conn, &d)
            .await?
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("distributor missing")))?;
        if dist.exited {
            return Err(ApiError::business(
                codes::DISTRIBUTOR_EXITED,
                "The reseller's distributor has exited; customers cannot be associated.",
            ));
        }
        if dist.restricted {
            return Err(ApiError::business(
                codes::DISTRIBUTOR_RESTRICTED,
                "The reseller's distributor enterprise is restricted.",
            ));
        }
    }
    if req.xaccount_type != caller.xaccount_type {
        return Err(ApiError::new(
            Code::ParameterInvalid,
            "Invalid parameter: xaccount_type is not the platform identifier assigned to this partner.",
        ));
    }
    let mobile = req.mobile_phone.as_deref().filter(|m| !m.is_empty());
    let domain_name = req
        .domain_name
        .clone()
        .unwrap_or_else(domain::ids::random_login_name);
    if let Some(pw) = req.password.as_deref() {
        validate::password(pw, &domain_name, mobile).map_err(|why| {
            ApiError::business(codes::PASSWORD_FORMAT, format!("Invalid password: {why}."))
        })?;
    }
    if let Some(m) = mobile {
        if let Some(owner) = db::partners::find_registration_report(&mut conn, m).await? {
            if owner != acting.partner_id && owner != caller.account_id {
                return Err(ApiError::business(
                    codes::MOBILE_REPORTED,
                    "The mobile number is already registered with the vendor by another partner.",
                ));
            }
        }
        if db::customers::partner_has_mobile(&mut conn, &acting.partner_id, m).await? {
            return Err(ApiError::business(
                codes::MOBILE_EXISTS,
                "The mobile number already exists.",
            ));
        }
        let used = db::accounts::count_customers_with_mobile(&mut conn, m).await?;
        if used >= app.config.customers.mobile_registration_limit {
            return Err(ApiError::business(
                codes::MOBILE_LIMIT,
                "The number of registrations with this mobile number exceeds the limit.",
            ));
        }
    }
    if db::accounts::login_name_taken(&mut conn, &domain_name).await? {
        return Err(ApiError::business(
            codes::LOGIN_NAME_EXISTS,
            "The login name already exists.",
        ));
    }
    if db::customers::xaccount_id_taken(&mut conn, &req.xaccount_type, &req.xaccount_id).await? {
        return Err(ApiError::business(
            codes::XACCOUNT_ID_EXISTS,
            "The xaccount_id already exists.",
        ));
    }
    drop(conn);
    let code_id = match (mobile, req.verification_code.as_deref()) {
        (Some(m), Some(code)) => {
            Some(verification::check_code(app, m, verification::SCENE_REGISTRATION, code).await?)
        }
        (Some(_), None) => {
            return Err(ApiError::invalid(
                "verification_code",
                "is required when mobile_phone is given",
            ))
        }
        (None, _) => None,
    };
    let password_hash = match req.password.clone() {
        Some(pw) => Some(
            tokio::task::spawn_blocking(move || crypto::hash_password(&pw))
                .await
                .map_err(ApiError::internal)?,
        ),
        None => None,
    };
    let now = app.now();
    let id = domain::new_account_id();
    let mut tx = app.db.begin().await?;
    if let Some(code_id) = code_id {
        verification::consume(app, &mut tx, code_id).await?;
    }
    insert_account(
        &mut tx,
        &db::accounts::NewAccount {
            id: &id,
            kind: "customer",
            login_name: &domain_name,
            password_hash: password_hash.as_deref(),
            mobile_phone: req.mobile_phone.as_deref(),
            email: None,
            created_at: now,
        },
    )
    .await?;
    db::customers::insert_customer(
        &mut tx,
        &db::customers::NewCustomer {
            account_id: &id,
            partner_id: &acting.partner_id,
            association_type: req.association.code(),
            associated_on: now,
            xaccount_type: &req.xaccount_type,
            xaccount_id: &req.xaccount_id,
            country_code: mobile.map(|_| "0086"),
            is_close_market_ms: req.is_close_market_ms,
        },
    )
    .await
    .map_err(|e| {
        if is_constraint(&e, "customer_xaccount_key") {
            ApiError::business(codes::XACCOUNT_ID_EXISTS, "The xaccount_id already exists.")
        } else {
            e.into()
        }
    })?;
    let record = db::lifecycle::NewEvent {
        customer_id: &id,
        partner_id: &acting.partner_id,
        event_type: "associate",
        actor_id: caller.actor_id(),
        actor_kind: "partner",
        reason: None,
        outcome: "completed",
        from_type: None,
        to_type: Some(req.association.code()),
        request_id: None,
        created_at: now,
    };
    db::lifecycle::insert_event(&mut tx, &record).await?;
    crate::service::events::association_recorded(&mut tx, &record).await?;
    crate::ledger::open_accounts(
        &mut tx,
        &[crate::ledger::AccountRef::new(
            &id,
            crate::ledger::Purpose::CustomerCash,
        )],
    )
    .await?;
    tx.commit().await?;
    tracing::info!(customer_id = %id, partner_id = %acting.partner_id, "sub-customer created");
    Ok(CreatedCustomer {
        domain_id: id,
        domain_name,
    })
}

pub struct CustomerQuery {
    pub filter: db::customers::CustomerFilter,
    pub indirect_partner_id: Option<String>,
    pub offset: i64,
    pub limit: i64,
}

pub async fn list_sub_customers(
    app: &App,
    caller: &PartnerCaller,
    mut q: CustomerQuery,
) -> ApiResult<(i64, Vec<db::customers::CustomerInfo>)> {
    q.filter.manager_ids = caller.manager_scope().map(<[String]>::to_vec);
    let mut conn = app.db.acquire().await?;
    let acting =
        partners::resolve_acting(&mut conn, caller, q.indirect_partner_id.as_deref()).await?;
    Ok(
        db::customers::list_customers(&mut conn, &acting.partner_id, &q.filter, q.offset, q.limit)
            .await?,
    )
}
