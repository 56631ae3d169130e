//! The working-day calendar the acceptance deadlines count on (the vendor sets its exceptions).

use super::*;

/// The vendor's calendar exceptions between two dates.
pub async fn list_calendar(
    app: &App,
    from: NaiveDate,
    to: NaiveDate,
) -> ApiResult<Vec<(NaiveDate, String, String)>> {
    if to < from || (to - from).num_days() > 366 {
        return Err(ApiError::invalid(
            "to",
            "must be on or after from and within 366 days",
        ));
    }
    let mut conn = app.db.acquire().await?;
    Ok(db::opportunities::calendar(&mut conn, from, to).await?)
}

pub async fn set_calendar_day(
    app: &App,
    day: NaiveDate,
    kind: DayKind,
    name: &str,
) -> ApiResult<()> {
    let mut conn = app.db.acquire().await?;
    db::opportunities::upsert_calendar_day(&mut conn, day, kind.as_str(), name).await?;
    Ok(())
}

pub async fn delete_calendar_day(app: &App, day: NaiveDate) -> ApiResult<()> {
    let mut conn = app.db.acquire().await?;
    if !db::opportunities::delete_calendar_day(&mut conn, day).await? {
        return Err(ApiError::invalid("day", "is not in the calendar"));
    }
    Ok(())
}
