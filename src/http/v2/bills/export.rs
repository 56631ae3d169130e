//! Export (extension): a cycle's consumption records as CSV, streamed.

use super::*;

// ---------------------------------------------------------------------------------------------
// Export (extension): a cycle's consumption records as CSV, streamed

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `YYYY-MM` (required).
    pub bill_cycle: Option<String>,
    pub indirect_partner_id: Option<String>,
}

/// CSV header of the export; one row per fee record, in the detail API's field names.
pub const EXPORT_HEADER: &str = "bill_cycle,id,customer_id,account_name,association_type,\
account_manager_id,service_type_code,service_type_name,resource_type_code,resource_type_name,\
region_code,product_id,product_name,resource_id,resource_name,charging_mode,bill_detail_type,\
usage_type,usage_amount,usage_measure_id,consume_time,trade_time,trade_id,official_amount,\
official_discount_amount,erase_amount,payment_amount,coupon_amount,flexipurchase_coupon_amount,\
stored_value_card_amount,cash_amount,credit_amount,debt_amount,writeoff_amount\n";

fn csv_field(out: &mut String, v: &str) {
    if v.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&v.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(v);
    }
}

/// One fee record as a CSV line.
pub fn csv_line(r: &FeeDetail) -> String {
    let yuan = |f: i64| fen_to_yuan(f).to_string();
    let fields: [String; 34] = [
        cycle_text(r.cycle),
        r.id.clone(),
        r.customer_id.clone(),
        r.account_name.clone().unwrap_or_default(),
        r.association_type
            .map(|a| a.to_string())
            .unwrap_or_default(),
        r.manager_id.clone().unwrap_or_default(),
        r.service_type_code.clone(),
        r.service_type_name.clone().unwrap_or_default(),
        r.resource_type_code.clone(),
        r.resource_type_name.clone().unwrap_or_default(),
        r.region_code.clone(),
        r.product_id.clone(),
        r.product_name.clone().unwrap_or_default(),
        r.resource_id.clone(),
        r.resource_name.clone().unwrap_or_default(),
        r.charging_mode.to_string(),
        r.bill_type.to_string(),
        r.usage_type.clone().unwrap_or_default(),
        r.usage
            .map(|u| u.normalize().to_string())
            .unwrap_or_default(),
        r.usage_measure_id
            .map(|m| m.to_string())
            .unwrap_or_default(),
        format_ts(r.begin_time),
        format_ts(r.trade_time),
        r.trade_id.clone(),
        r.official_amount.normalize().to_string(),
        r.discount_amount.normalize().to_string(),
        r.erase_amount.normalize().to_string(),
        yuan(r.payable),
        yuan(r.coupon),
        yuan(r.cash_coupon),
        yuan(r.card),
        yuan(r.cash),
        yuan(r.credit),
        yuan(r.debt),
        yuan(r.writeoff),
    ];
    let mut out = String::with_capacity(256);
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_field(&mut out, f);
    }
    out.push('\n');
    out
}

/// A cycle's consumption records of the partner's sub-customers as CSV (UTF-8, header row),
/// streamed from the database: rows are never all in memory.
#[utoipa::path(get, path = "/v2/bills/subcustomer-bills/res-fee-records/export", tag = "bills",
    params(ExportQuery,
           ("X-Language" = Option<String>, Header, description = "zh_cn (default) or en_us")),
    responses((status = 200, content_type = "text/csv", body = String), (status = "4XX", body = ErrorBody)),
    security(("aksk" = []), ("token" = [])))]
pub async fn export_sub_customer_bill_detail(
    State(app): State<AppState>,
    caller: PartnerCaller,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> ApiResult<Response> {
    let cycle = parse_cycle("bill_cycle", q.bill_cycle)?;
    let (scope, managers) =
        bills::export_scope(&app, &caller, given(q.indirect_partner_id).as_deref()).await?;
    let en = english(&headers);
    let pool = app.db.pool().clone();
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<String, std::io::Error>>(16);
    tokio::spawn(async move {
        let _ = tx.send(Ok(EXPORT_HEADER.to_string())).await;
        let mut q = crate::db::bills::export_query(&scope, cycle, en);
        let mut rows = q.build_query_as::<FeeDetail>().fetch(&pool);
        let mut chunk = String::with_capacity(64 * 1024);
        loop {
            match rows.try_next().await {
                Ok(Some(r)) => {
                    if managers
                        .as_ref()
                        .is_some_and(|ms| !r.manager_id.as_ref().is_some_and(|m| ms.contains(m)))
                    {
                        continue;
                    }
                    chunk.push_str(&csv_line(&r));
                    if chunk.len() >= 60 * 1024 {
                        let full = std::mem::replace(&mut chunk, String::with_capacity(64 * 1024));
                        if tx.send(Ok(full)).await.is_err() {
                            return;
                        }
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::error!(error = %e, "export failed");
                    let _ = tx.send(Err(std::io::Error::other("export failed"))).await;
                    return;
                }
            }
        }
        if !chunk.is_empty() {
            let _ = tx.send(Ok(chunk)).await;
        }
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
    let name = format!(
        "attachment; filename=\"fee-records-{}.csv\"",
        cycle_text(cycle)
    );
    Response::builder()
        .header(header::CONTENT_TYPE, "text/csv; charset=utf-8")
        .header(header::CONTENT_DISPOSITION, name)
        .body(Body::from_stream(stream))
        .map_err(ApiError::internal)
}
