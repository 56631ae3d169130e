//! Coupon money: quota amounts moved between quota accounts, coupons issued from a quota and
//! reclaimed into it.

use super::*;

/// Moves coupon quota (fen) from `from` to `to`: the vendor granting or lowering a quota (with
/// the system `coupon_quota_source`), or a distributor's quota to/from a reseller quota. Both
/// accounts must be of the coupon-quota asset; a quota account never goes below 0.
pub async fn move_coupon_quota(
    conn: &mut PgConnection,
    from: AccountRef<'_>,
    to: AccountRef<'_>,
    amount: Amount,
    entry: &Entry<'_>,
) -> Result<JournalId, LedgerError> {
    if from.purpose.asset() != Asset::CouponQuota || to.purpose.asset() != Asset::CouponQuota {
        return Err(LedgerError::Invalid(
            "coupon quota moves between quota accounts",
        ));
    }
    transfer(conn, from, to, amount, entry).await
}

/// The whole balance of a quota account (owned by the quota id), locked.
pub async fn lock_quota_balance(
    conn: &mut PgConnection,
    quota_id: &str,
) -> Result<i64, LedgerError> {
    let q = AccountRef::new(quota_id, Purpose::PartnerCouponQuota);
    let locked = lock_accounts(conn, &[q]).await?;
    Ok(find(&locked, q).balance)
}

/// Issues a coupon: `face` leaves the quota (owned by the quota id) for that quota's issued-quota
/// source, and the same value enters the coupon (owned by the coupon id) from that quota's
/// coupon-value source. The sources are per quota (not one system row), so issuing from different
/// quotas never waits on a shared row. `Insufficient` when the quota's balance is below `face`.
pub async fn issue_coupon(
    conn: &mut PgConnection,
    quota_id: &str,
    coupon_id: &str,
    face: Amount,
    entry: &Entry<'_>,
) -> Result<JournalId, LedgerError> {
    let quota = AccountRef::new(quota_id, Purpose::PartnerCouponQuota);
    let qsrc = AccountRef::new(quota_id, Purpose::CouponQuotaSource);
    let coupon = AccountRef::new(coupon_id, Purpose::CustomerCouponValue);
    let vsrc = AccountRef::new(quota_id, Purpose::CouponValueSource);
    let locked = lock_accounts(conn, &[quota, qsrc, coupon, vsrc]).await?;
    if find(&locked, quota).available() < face.fen() {
        return Err(LedgerError::Insufficient);
    }
    let postings = [
        (find(&locked, quota).id, -face.fen()),
        (find(&locked, qsrc).id, face.fen()),
        (find(&locked, vsrc).id, -face.fen()),
        (find(&locked, coupon).id, face.fen()),
    ];
    post(conn, entry, &locked, &postings).await
}

/// Reclaims a coupon's whole remaining balance back to its quota (the reverse of
/// [`issue_coupon`]). Returns the journal and the amount (fen), or `None` when the coupon's
/// balance is already 0.
pub async fn reclaim_coupon(
    conn: &mut PgConnection,
    coupon_id: &str,
    quota_id: &str,
    entry: &Entry<'_>,
) -> Result<Option<(JournalId, i64)>, LedgerError> {
    let quota = AccountRef::new(quota_id, Purpose::PartnerCouponQuota);
    let qsrc = AccountRef::new(quota_id, Purpose::CouponQuotaSource);
    let coupon = AccountRef::new(coupon_id, Purpose::CustomerCouponValue);
    let vsrc = AccountRef::new(quota_id, Purpose::CouponValueSource);
    let locked = lock_accounts(conn, &[quota, qsrc, coupon, vsrc]).await?;
    let amount = find(&locked, coupon).balance;
    if amount <= 0 {
        return Ok(None);
    }
    let postings = [
        (find(&locked, coupon).id, -amount),
        (find(&locked, vsrc).id, amount),
        (find(&locked, qsrc).id, -amount),
        (find(&locked, quota).id, amount),
    ];
    let j = post(conn, entry, &locked, &postings).await?;
    Ok(Some((j, amount)))
}
