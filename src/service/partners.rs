//! Partner-side rules shared by many operations: whom a call acts for, and reseller listing.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::{
    db::{self, partners::PartnerRow},
    error::{codes, ApiError, ApiResult},
    service::auth::PartnerCaller,
    state::App,
};

/// The partner an operation is evaluated against: the caller, or the reseller a distributor named
/// with `indirect_partner_id`.
#[derive(Debug, Clone)]
pub struct Acting {
    pub partner_id: String,
    /// Set when a distributor acts for one of its resellers.
    pub reseller: Option<PartnerRow>,
}

/// Resolves `indirect_partner_id`: honoured for distributors (must be one of their resellers, else
/// CBC.99000037), ignored for everybody else.
pub async fn resolve_acting(
    conn: &mut PgConnection,
    caller: &PartnerCaller,
    indirect_partner_id: Option<&str>,
) -> ApiResult<Acting> {
    let id = indirect_partner_id.filter(|s| !s.is_empty());
    match id {
        Some(id) if caller.is_distributor() => {
            let reseller = db::partners::find_partner(conn, id)
                .await?
                .filter(|p| p.distributor_id.as_deref() == Some(caller.account_id.as_str()))
                .ok_or_else(|| {
                    ApiError::business(
                        codes::NOT_YOUR_RESELLER,
                        "No permission to operate this reseller.",
                    )
                })?;
            Ok(Acting {
                partner_id: reseller.account_id.clone(),
                reseller: Some(reseller),
            })
        }
        _ => Ok(Acting {
            partner_id: caller.account_id.clone(),
            reseller: None,
        }),
    }
}

pub struct ResellerQuery {
    pub account_name: Option<String>,
    pub associated_on_begin: Option<DateTime<Utc>>,
    pub associated_on_end: Option<DateTime<Utc>>,
    pub indirect_partner_id: Option<String>,
    pub offset: i64,
    pub limit: i64,
}

/// A distributor's resellers; anybody else has none.
pub async fn list_resellers(
    app: &App,
    caller: &PartnerCaller,
    q: &ResellerQuery,
) -> ApiResult<(i64, Vec<db::partners::PartnerView>)> {
    if !caller.is_distributor() {
        return Ok((0, Vec::new()));
    }
    let mut conn = app.db.acquire().await?;
    let filter = db::partners::ResellerFilter {
        account_name: q.account_name.as_deref(),
        associated_on_begin: q.associated_on_begin,
        associated_on_end: q.associated_on_end,
        reseller_id: q.indirect_partner_id.as_deref(),
    };
    Ok(
        db::partners::list_resellers(&mut conn, &caller.account_id, &filter, q.offset, q.limit)
            .await?,
    )
}
