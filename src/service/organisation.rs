//! A partner's organisation: roles of permission items, operator accounts, customer managers.

use crate::{
    crypto, db,
    domain::{self, permissions, permissions::OperatorScope, validate},
    error::{codes, is_constraint, ApiError, ApiResult, Code},
    service::{
        accounts::{insert_access_key, insert_account, Credentials},
        auth::PartnerCaller,
    },
    state::App,
};

fn check_items(items: &[String]) -> ApiResult<()> {
    for i in items {
        if !permissions::is_item(i) {
            return Err(ApiError::invalid(
                "permissions",
                format!("unknown permission item {i}"),
            ));
        }
    }
    Ok(())
}

pub async fn create_role(
    app: &App,
    caller: &PartnerCaller,
    name: &str,
    items: &[String],
) -> ApiResult<i64> {
    check_items(items)?;
    let mut conn = app.db.acquire().await?;
    db::organisation::insert_role(&mut conn, &caller.account_id, name, items, app.now())
        .await
        .map_err(|e| {
            if is_constraint(&e, "partner_role_name_key") {
                ApiError::new(
                    Code::ParameterInvalid,
                    "A role with this name already exists.",
                )
            } else {
                e.into()
            }
        })
}

pub async fn update_role(
    app: &App,
    caller: &PartnerCaller,
    id: i64,
    items: &[String],
) -> ApiResult<()> {
    check_items(items)?;
    let mut conn = app.db.acquire().await?;
    if !db::organisation::update_role_permissions(&mut conn, &caller.account_id, id, items).await? {
        return Err(ApiError::business(
            "CBC.99000047",
            "The role does not exist.",
        ));
    }
    Ok(())
}

pub async fn list_roles(
    app: &App,
    caller: &PartnerCaller,
) -> ApiResult<Vec<db::organisation::RoleRow>> {
    let mut conn = app.db.acquire().await?;
    Ok(db::organisation::list_roles(&mut conn, &caller.account_id).await?)
}

pub struct NewOperatorInput {
    pub login_name: String,
    pub password: String,
    pub display_name: String,
    pub role_id: Option<i64>,
    pub scope: OperatorScope,
    pub supervisor_id: Option<String>,
}

async fn check_links(
    conn: &mut sqlx::PgConnection,
    partner_id: &str,
    role_id: Option<i64>,
    supervisor_id: Option<&str>,
) -> ApiResult<()> {
    if let Some(r) = role_id {
        if db::organisation::find_role(conn, partner_id, r)
            .await?
            .is_none()
        {
            return Err(ApiError::invalid("role_id", "is not one of your roles"));
        }
    }
    if let Some(s) = supervisor_id {
        let ok = db::organisation::find_operator(conn, s)
            .await?
            .is_some_and(|o| o.partner_id == partner_id && o.scope == "supervisor");
        if !ok {
            return Err(ApiError::invalid(
                "supervisor_id",
                "is not one of your supervisors",
            ));
        }
    }
    Ok(())
}

pub async fn create_operator(
    app: &App,
    caller: &PartnerCaller,
    input: NewOperatorInput,
) -> ApiResult<(db::organisation::OperatorRow, Credentials)> {
    validate::login_name(&input.login_name)
        .map_err(|why| ApiError::business(codes::LOGIN_NAME_FORMAT, format!("login_name {why}")))?;
    validate::password(&input.password, &input.login_name, None)
        .map_err(|why| ApiError::business(codes::PASSWORD_FORMAT, format!("password {why}")))?;
    let pw = input.password.clone();
    let hash = tokio::task::spawn_blocking(move || crypto::hash_password(&pw))
        .await
        .map_err(ApiError::internal)?;
    let now = app.now();
    let id = domain::new_account_id();
    let mut tx = app.db.begin().await?;
    check_links(
        &mut tx,
        &caller.account_id,
        input.role_id,
        input.supervisor_id.as_deref(),
    )
    .await?;
    insert_account(
        &mut tx,
        &db::accounts::NewAccount {
            id: &id,
            kind: "operator",
            login_name: &input.login_name,
            password_hash: Some(&hash),
            mobile_phone: None,
            email: None,
            created_at: now,
        },
    )
    .await?;
    db::organisation::insert_operator(
        &mut tx,
        &db::organisation::NewOperator {
            account_id: &id,
            partner_id: &caller.account_id,
            display_name: &input.display_name,
            role_id: input.role_id,
            scope: input.scope.as_str(),
            supervisor_id: input.supervisor_id.as_deref(),
            created_at: now,
        },
    )
    .await?;
    let creds = insert_access_key(app, &mut tx, &id).await?;
    let row = db::organisation::find_operator(&mut tx, &id)
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("operator vanished")))?;
    tx.commit().await?;
    Ok((row, creds))
}

pub async fn list_operators(
    app: &App,
    caller: &PartnerCaller,
) -> ApiResult<Vec<db::organisation::OperatorRow>> {
    let mut conn = app.db.acquire().await?;
    Ok(db::organisation::list_operators(&mut conn, &caller.account_id).await?)
}

fn no_operator() -> ApiError {
    ApiError::business("CBC.99000047", "The operator does not exist.")
}

async fn own_operator(
    conn: &mut sqlx::PgConnection,
    caller: &PartnerCaller,
    id: &str,
) -> ApiResult<db::organisation::OperatorRow> {
    db::organisation::find_operator(conn, id)
        .await?
        .filter(|o| o.partner_id == caller.account_id)
        .ok_or_else(no_operator)
}

/// What a partner changes on one of its operators; `None` keeps the current value.
#[derive(Default)]
pub struct OperatorChanges {
    pub role_id: Option<i64>,
    pub scope: Option<OperatorScope>,
    /// `Some(None)` removes the supervisor.
    pub supervisor_id: Option<Option<String>>,
    /// Disabling stops the operator's keys and tokens at once.
    pub enabled: Option<bool>,
    pub password: Option<String>,
}

pub async fn update_operator(
    app: &App,
    caller: &PartnerCaller,
    id: &str,
    ch: OperatorChanges,
) -> ApiResult<db::organisation::OperatorRow> {
    let hash = match ch.password.clone() {
        Some(pw) => {
            let op_login = {
                let mut conn = app.db.acquire().await?;
                own_operator(&mut conn, caller, id).await?.login_name
            };
            validate::password(&pw, &op_login, None).map_err(|why| {
                ApiError::business(codes::PASSWORD_FORMAT, format!("password {why}"))
            })?;
            Some(
                tokio::task::spawn_blocking(move || crypto::hash_password(&pw))
                    .await
                    .map_err(ApiError::internal)?,
            )
        }
        None => None,
    };
    let mut tx = app.db.begin().await?;
    own_operator(&mut tx, caller, id).await?;
    check_links(
        &mut tx,
        &caller.account_id,
        ch.role_id,
        ch.supervisor_id.clone().flatten().as_deref(),
    )
    .await?;
    db::organisation::update_operator(
        &mut tx,
        &caller.account_id,
        id,
        ch.role_id,
        ch.scope.map(|s| s.as_str()),
        ch.supervisor_id.as_ref().map(|s| s.as_deref()),
    )
    .await?;
    if let Some(enabled) = ch.enabled {
        db::accounts::update_account_status(
            &mut tx,
            id,
            if enabled { "active" } else { "disabled" },
        )
        .await?;
    }
    if let Some(hash) = hash {
        db::accounts::update_password_hash(&mut tx, id, &hash).await?;
    }
    let row = own_operator(&mut tx, caller, id).await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn create_operator_access_key(
    app: &App,
    caller: &PartnerCaller,
    id: &str,
) -> ApiResult<Credentials> {
    let mut tx = app.db.begin().await?;
    own_operator(&mut tx, caller, id).await?;
    let creds = insert_access_key(app, &mut tx, id).await?;
    tx.commit().await?;
    Ok(creds)
}

fn not_sub_customer() -> ApiError {
    ApiError::business(
        codes::NOT_SUB_CUSTOMER,
        "The customer is not your sub-customer.",
    )
}

/// Rejects (CBC.0100 `manager_id`) an operator that is not one of the partner's customer managers
/// (or supervisors).
pub async fn check_manager(
    conn: &mut sqlx::PgConnection,
    partner_id: &str,
    manager_id: &str,
) -> ApiResult<()> {
    let ok = db::organisation::find_operator(conn, manager_id)
        .await?
        .is_some_and(|o| o.partner_id == partner_id && o.scope != "staff");
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "manager_id",
            "is not one of your customer managers",
        ))
    }
}

/// Assigns a customer to a manager (or to nobody), closing the previous assignment.
pub async fn assign_customer(
    app: &App,
    caller: &PartnerCaller,
    customer_id: &str,
    manager_id: Option<&str>,
) -> ApiResult<()> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let current = db::organisation::lock_customer_manager(&mut tx, &caller.account_id, customer_id)
        .await?
        .ok_or_else(not_sub_customer)?;
    if !caller.may_see(current.as_deref()) {
        return Err(not_sub_customer());
    }
    if let Some(m) = manager_id {
        check_manager(&mut tx, &caller.account_id, m).await?;
        if !caller.may_see(Some(m)) {
            return Err(ApiError::access_denied());
        }
    }
    db::organisation::close_assignment(&mut tx, customer_id, now).await?;
    db::organisation::insert_assignment(
        &mut tx,
        customer_id,
        &caller.account_id,
        manager_id,
        caller.actor_id(),
        now,
    )
    .await?;
    db::organisation::set_customer_manager(&mut tx, customer_id, manager_id).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn list_assignments(
    app: &App,
    caller: &PartnerCaller,
    customer_id: &str,
) -> ApiResult<Vec<db::organisation::AssignmentRow>> {
    let mut conn = app.db.acquire().await?;
    let current = db::organisation::customer_manager(&mut conn, &caller.account_id, customer_id)
        .await?
        .ok_or_else(not_sub_customer)?;
    if !caller.may_see(current.as_deref()) {
        return Err(not_sub_customer());
    }
    Ok(db::organisation::list_assignments(&mut conn, &caller.account_id, customer_id).await?)
}

/// Rejects a customer outside the caller's manager scope as if it were not the partner's.
pub async fn ensure_in_scope(
    conn: &mut sqlx::PgConnection,
    caller: &PartnerCaller,
    partner_id: &str,
    customer_id: &str,
) -> ApiResult<()> {
    if caller.manager_scope().is_none() {
        return Ok(());
    }
    let manager = db::organisation::customer_manager(conn, partner_id, customer_id)
        .await?
        .ok_or_else(not_sub_customer)?;
    if caller.may_see(manager.as_deref()) {
        Ok(())
    } else {
        Err(not_sub_customer())
    }
}
