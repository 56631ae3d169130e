//! Dashboard counts, each one index-only scan (see the indexes of migration 0015).

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, QueryBuilder};

fn scope(b: &mut QueryBuilder<'_, Postgres>, managers: Option<&[String]>) {
    if let Some(ms) = managers {
        b.push(" and manager_id = any(")
            .push_bind(ms.to_vec())
            .push(")");
    }
}

/// (association_type, count) of the partner's current customers, from the counters the
/// `customer_count_track` trigger maintains.
pub async fn customers_by_type(
    conn: &mut PgConnection,
    partner_id: &str,
    managers: Option<&[String]>,
) -> sqlx::Result<Vec<(String, i64)>> {
    let mut b = QueryBuilder::new(
        "select association_type, sum(n)::bigint from customer_count where partner_id = ",
    );
    b.push_bind(partner_id.to_string());
    scope(&mut b, managers);
    b.push(" group by association_type");
    let rows = b.build_query_as().fetch_all(conn).await?;
    Ok(rows)
}

/// Current customers associated within `[from, to)`.
pub async fn new_customers(
    conn: &mut PgConnection,
    partner_id: &str,
    managers: Option<&[String]>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> sqlx::Result<i64> {
    let mut b = QueryBuilder::new("select count(*) from customer where partner_id = ");
    b.push_bind(partner_id.to_string())
        .push(" and associated_on >= ")
        .push_bind(from)
        .push(" and associated_on < ")
        .push_bind(to);
    scope(&mut b, managers);
    let n = b.build_query_scalar().fetch_one(conn).await?;
    Ok(n)
}

/// Completed un-associations within `[from, to)`; for a manager scope, those of customers
/// assigned to its managers at the time.
pub async fn unassociations(
    conn: &mut PgConnection,
    partner_id: &str,
    managers: Option<&[String]>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> sqlx::Result<i64> {
    let mut b = QueryBuilder::new(
        "select count(*) from association_event e
         where e.partner_id = ",
    );
    b.push_bind(partner_id.to_string())
        .push(" and e.event_type = 'unassociate' and e.created_at >= ")
        .push_bind(from)
        .push(" and e.created_at < ")
        .push_bind(to);
    if let Some(ms) = managers {
        b.push(
            " and exists (select 1 from customer_assignment s where s.customer_id = e.customer_id
                 and s.assigned_at <= e.created_at and (s.ended_at is null or s.ended_at >= e.created_at)
                 and s.manager_id = any(",
        )
        .push_bind(ms.to_vec())
        .push("))");
    }
    let n = b.build_query_scalar().fetch_one(conn).await?;
    Ok(n)
}
