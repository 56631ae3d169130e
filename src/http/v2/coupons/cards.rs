//! Stored-value cards.

use super::*;

// ---------------------------------------------------------------------------------------------
// 12. Stored-value cards

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListStoredValueCardsQuery {
    /// 1 usable, 2 used up (required).
    pub status: Option<String>,
    pub card_id: Option<String>,
    pub offset: Option<String>,
    pub limit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserStoredValueCard {
    pub card_id: String,
    pub card_name: String,
    pub status: i32,
    pub face_value: String,
    pub balance: String,
    pub effective_time: String,
    pub expire_time: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListStoredValueCardsResponse {
    pub total_count: i64,
    pub stored_value_cards: Vec<UserStoredValueCard>,
}

/// The customer's stored-value cards (sold by the vendor, used up by consumption).
#[utoipa::path(get, path = "/v2/promotions/benefits/stored-value-cards", tag = "coupons",
    params(ListStoredValueCardsQuery),
    responses((status = 200, body = ListStoredValueCardsResponse), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn list_stored_value_cards(
    State(app): State<AppState>,
    caller: CustomerCaller,
    ApiQuery(q): ApiQuery<ListStoredValueCardsQuery>,
) -> ApiResult<Json<ListStoredValueCardsResponse>> {
    let status = int_param("status", q.status.as_deref())?
        .ok_or_else(|| ApiError::invalid("status", "is required"))?;
    enum_param("status", Some(status), &[1, 2])?;
    max_len("card_id", q.card_id.as_deref(), 64)?;
    let p = paging(q.offset.as_deref(), q.limit.as_deref())?;
    let card_id = q.card_id.filter(|c| !c.is_empty());
    let (total_count, cards) = crate::service::usage_money::stored_value_cards(
        &app,
        &caller.account_id,
        status as i16,
        card_id.as_deref(),
        p.offset,
        p.limit,
    )
    .await?;
    Ok(Json(ListStoredValueCardsResponse {
        total_count,
        stored_value_cards: cards
            .into_iter()
            .map(|c| UserStoredValueCard {
                card_id: c.id,
                card_name: c.card_name,
                status: i32::from(c.status),
                face_value: fen_to_string(c.face_value),
                balance: fen_to_string(c.balance),
                effective_time: format_ts(c.effective_time),
                expire_time: format_ts(c.expire_time),
            })
            .collect(),
    }))
}
