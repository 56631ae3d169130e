//! A customer's own resource consumption records (40-bills.md §6 and §7): fee records one by one
//! or summed per usage line for the cycle or per UTC+8 day, with the unit conversion each line's
//! formula needs.

use crate::{
    db::{
        self,
        bills::DetailFilter,
        resource_bills::{ResRecord, Statistic},
    },
    domain::rating::conversion_factor,
    error::ApiResult,
    state::App,
};

/// A reported row and the factor converting its usage into the unit of its price
/// (`usage × num / den`), when both units are known and convertible.
pub struct ResLine {
    pub record: ResRecord,
    pub factor: Option<(i128, i128)>,
}

pub struct ResQuery {
    pub statistic: Statistic,
    pub filter: DetailFilter,
    pub english: bool,
    pub offset: i64,
    pub limit: i64,
}

/// The records of `customer_ids` (the caller itself; empty: an enterprise sub-account that
/// cannot exist here, so nothing).
pub async fn own_records(
    app: &App,
    customer_ids: Vec<String>,
    q: ResQuery,
) -> ApiResult<(i64, Vec<ResLine>)> {
    if customer_ids.is_empty() {
        return Ok((0, Vec::new()));
    }
    let mut conn = app.db.acquire().await?;
    let mut f = q.filter;
    f.customer_ids = customer_ids;
    let (total, rows) =
        db::resource_bills::records(&mut conn, q.statistic, &f, q.english, q.offset, q.limit)
            .await?;
    let conversions = if rows.is_empty() {
        Vec::new()
    } else {
        db::usage::conversions(&mut conn).await?
    };
    let lines = rows
        .into_iter()
        .map(|record| {
            let factor = match (record.usage_measure_id, record.price_measure_id) {
                (Some(from), Some(to)) => conversion_factor(from, to, &conversions),
                _ => None,
            };
            ResLine { record, factor }
        })
        .collect();
    Ok((total, lines))
}
