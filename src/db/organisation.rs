//! Operator accounts, roles and customer assignments of a partner.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

#[derive(Debug, Clone)]
pub struct RoleRow {
    pub id: i64,
    pub partner_id: String,
    pub name: String,
    pub permissions: Vec<String>,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_role(
    conn: &mut PgConnection,
    partner_id: &str,
    name: &str,
    permissions: &[String],
    at: DateTime<Utc>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        "insert into partner_role (partner_id, name, permissions, created_at) values ($1, $2, $3, $4)
         returning id",
        partner_id,
        name,
        permissions,
        at
    )
    .fetch_one(conn)
    .await
}

pub async fn update_role_permissions(
    conn: &mut PgConnection,
    partner_id: &str,
    id: i64,
    permissions: &[String],
) -> sqlx::Result<bool> {
    let r = sqlx::query!(
        "update partner_role set permissions = $3 where id = $2 and partner_id = $1",
        partner_id,
        id,
        permissions
    )
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn find_role(
    conn: &mut PgConnection,
    partner_id: &str,
    id: i64,
) -> sqlx::Result<Option<RoleRow>> {
    sqlx::query_as!(
        RoleRow,
        "select id, partner_id, name, permissions, created_at from partner_role
         where id = $2 and partner_id = $1",
        partner_id,
        id
    )
    .fetch_optional(conn)
    .await
}

pub async fn list_roles(conn: &mut PgConnection, partner_id: &str) -> sqlx::Result<Vec<RoleRow>> {
    sqlx::query_as!(
        RoleRow,
        "select id, partner_id, name, permissions, created_at from partner_role
         where partner_id = $1 order by id",
        partner_id
    )
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone)]
pub struct OperatorRow {
    pub account_id: String,
    pub partner_id: String,
    pub login_name: String,
    pub status: String,
    pub display_name: String,
    pub role_id: Option<i64>,
    pub permissions: Option<Vec<String>>,
    pub scope: String,
    pub supervisor_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub async fn find_operator(conn: &mut PgConnection, id: &str) -> sqlx::Result<Option<OperatorRow>> {
    sqlx::query_as!(
        OperatorRow,
        r#"select o.account_id, o.partner_id, a.login_name, a.status, o.display_name, o.role_id,
                  r.permissions as "permissions?", o.scope, o.supervisor_id, o.created_at
           from operator o join account a on a.id = o.account_id
           left join partner_role r on r.id = o.role_id
           where o.account_id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await
}

pub async fn list_operators(
    conn: &mut PgConnection,
    partner_id: &str,
) -> sqlx::Result<Vec<OperatorRow>> {
    sqlx::query_as!(
        OperatorRow,
        r#"select o.account_id, o.partner_id, a.login_name, a.status, o.display_name, o.role_id,
                  r.permissions as "permissions?", o.scope, o.supervisor_id, o.created_at
           from operator o join account a on a.id = o.account_id
           left join partner_role r on r.id = o.role_id
           where o.partner_id = $1 order by o.created_at, o.account_id"#,
        partner_id
    )
    .fetch_all(conn)
    .await
}

pub struct NewOperator<'a> {
    pub account_id: &'a str,
    pub partner_id: &'a str,
    pub display_name: &'a str,
    pub role_id: Option<i64>,
    pub scope: &'a str,
    pub supervisor_id: Option<&'a str>,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_operator(conn: &mut PgConnection, o: &NewOperator<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into operator (account_id, partner_id, display_name, role_id, scope, supervisor_id, created_at)
         values ($1, $2, $3, $4, $5, $6, $7)",
        o.account_id,
        o.partner_id,
        o.display_name,
        o.role_id,
        o.scope,
        o.supervisor_id,
        o.created_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update_operator(
    conn: &mut PgConnection,
    partner_id: &str,
    id: &str,
    role_id: Option<i64>,
    scope: Option<&str>,
    supervisor_id: Option<Option<&str>>,
) -> sqlx::Result<bool> {
    let (set_supervisor, supervisor) = match supervisor_id {
        Some(s) => (true, s),
        None => (false, None),
    };
    let r = sqlx::query!(
        "update operator set role_id = coalesce($3, role_id), scope = coalesce($4, scope),
                supervisor_id = case when $5 then $6 else supervisor_id end
         where account_id = $2 and partner_id = $1",
        partner_id,
        id,
        role_id,
        scope,
        set_supervisor,
        supervisor
    )
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Managers supervised by `supervisor_id`.
pub async fn supervised_managers(
    conn: &mut PgConnection,
    supervisor_id: &str,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        "select account_id from operator where supervisor_id = $1 order by account_id",
        supervisor_id
    )
    .fetch_all(conn)
    .await
}

/// The customer's manager, locking the customer row (for a reassignment).
pub async fn lock_customer_manager(
    conn: &mut PgConnection,
    partner_id: &str,
    customer_id: &str,
) -> sqlx::Result<Option<Option<String>>> {
    sqlx::query_scalar!(
        "select manager_id from customer where account_id = $2 and partner_id = $1 for update",
        partner_id,
        customer_id
    )
    .fetch_optional(conn)
    .await
}

pub async fn set_customer_manager(
    conn: &mut PgConnection,
    customer_id: &str,
    manager_id: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update customer set manager_id = $2 where account_id = $1",
        customer_id,
        manager_id
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn close_assignment(
    conn: &mut PgConnection,
    customer_id: &str,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update customer_assignment set ended_at = $2 where customer_id = $1 and ended_at is null",
        customer_id,
        at
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_assignment(
    conn: &mut PgConnection,
    customer_id: &str,
    partner_id: &str,
    manager_id: Option<&str>,
    assigned_by: &str,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into customer_assignment (customer_id, partner_id, manager_id, assigned_by, assigned_at)
         values ($1, $2, $3, $4, $5)",
        customer_id,
        partner_id,
        manager_id,
        assigned_by,
        at
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug)]
pub struct AssignmentRow {
    pub customer_id: String,
    pub manager_id: Option<String>,
    pub manager_login: Option<String>,
    pub assigned_by: String,
    pub assigned_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

pub async fn list_assignments(
    conn: &mut PgConnection,
    partner_id: &str,
    customer_id: &str,
) -> sqlx::Result<Vec<AssignmentRow>> {
    sqlx::query_as!(
        AssignmentRow,
        r#"select s.customer_id, s.manager_id, a.login_name as "manager_login?", s.assigned_by,
                  s.assigned_at, s.ended_at
           from customer_assignment s left join account a on a.id = s.manager_id
           where s.partner_id = $1 and s.customer_id = $2
           order by s.assigned_at desc, s.id desc"#,
        partner_id,
        customer_id
    )
    .fetch_all(conn)
    .await
}

/// Which manager a customer of this partner is assigned to (None: not the partner's customer).
pub async fn customer_manager(
    conn: &mut PgConnection,
    partner_id: &str,
    customer_id: &str,
) -> sqlx::Result<Option<Option<String>>> {
    sqlx::query_scalar!(
        "select manager_id from customer where account_id = $2 and partner_id = $1",
        partner_id,
        customer_id
    )
    .fetch_optional(conn)
    .await
}
