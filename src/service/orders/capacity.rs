//! What the catalogue requires of an order before it is paid (`pay_orders`): every line item's
//! product has a tax rate (else CBC.99006093), and a new order's copies fit in the capacity left
//! of each (product, region) that has one (else CBC.99003141, `error_details` naming each short
//! product). The capacity rows are locked (in key order), so two concurrent payments that together
//! exceed a capacity cannot both pass: the second waits for the first and then counts its
//! resources. No capacity set: unlimited.

use std::collections::BTreeMap;

use sqlx::PgConnection;

use super::NEW;
use crate::{
    db::{
        self,
        catalogue::ProductRow,
        orders::{LineRow, OrderRow},
    },
    error::{codes, ApiError, ApiResult, ErrorDetail},
};

fn no_tax_rate(product_id: &str) -> ApiError {
    ApiError::business(
        codes::NO_TAX_RATE,
        format!("The product {product_id} has no tax rate; it cannot be priced."),
    )
}

/// CBC.99006093 unless the product has a tax rate.
pub(crate) fn require_tax_rate(product: &ProductRow) -> ApiResult<()> {
    match product.tax_rate {
        Some(_) => Ok(()),
        None => Err(no_tax_rate(&product.id)),
    }
}

/// Checks (in the payment's transaction, the order locked and pending) that `lines` may be paid:
/// tax rates, then capacities. Nothing is written; an error leaves everything as it was.
pub(crate) async fn check_payable(
    conn: &mut PgConnection,
    order: &OrderRow,
    lines: &[LineRow],
) -> ApiResult<()> {
    let mut products: Vec<&str> = lines.iter().map(|l| l.product_id.as_str()).collect();
    products.sort_unstable();
    products.dedup();
    for id in products {
        match db::catalogue::find_product(conn, id).await? {
            Some(p) => require_tax_rate(&p)?,
            None => return Err(no_tax_rate(id)),
        }
    }
    if order.order_type != NEW {
        // Renewals keep the copies they already hold.
        return Ok(());
    }
    let mut wanted: BTreeMap<(&str, &str), i64> = BTreeMap::new();
    for l in lines {
        *wanted
            .entry((l.product_id.as_str(), l.region_code.as_str()))
            .or_default() += i64::from(l.subscription_num);
    }
    let mut short = Vec::new();
    for ((product_id, region_code), n) in wanted {
        let Some(c) = db::catalogue::lock_capacity(conn, product_id, region_code).await? else {
            continue;
        };
        let left = (c.capacity - c.used).max(0);
        if n > left {
            short.push(ErrorDetail {
                id: product_id.to_string(),
                error_code: codes::CAPACITY_INSUFFICIENT.to_string(),
                error_msg: format!(
                    "The capacity of product {product_id} in region {region_code} is \
                     insufficient: {n} requested, {left} left."
                ),
            });
        }
    }
    if short.is_empty() {
        return Ok(());
    }
    Err(ApiError::business(
        codes::CAPACITY_INSUFFICIENT,
        "The capacity is insufficient for this order (see error_details).",
    )
    .with_details(short))
}
