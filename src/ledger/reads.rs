//! Balances as the balance operations show them, read without locks.

use super::*;

/// A partner's money as the balance operations show it (all fen).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartnerMoney {
    pub cash_account_id: Option<AccountId>,
    pub cash: i64,
    pub designated: i64,
    pub credit_account_id: Option<AccountId>,
    pub credit: i64,
    pub credit_limit: i64,
}

impl PartnerMoney {
    /// Σ over the balance accounts of (amount − designated amount).
    pub fn fundable(&self) -> i64 {
        (self.cash - self.designated) + self.credit
    }
}

/// Reads (without locking) a partner's cash and credit accounts; absent accounts read as zero.
pub async fn partner_money(
    conn: &mut PgConnection,
    partner_id: &str,
) -> Result<PartnerMoney, sqlx::Error> {
    let mut found = partners_money(conn, &[partner_id.to_string()]).await?;
    Ok(found.remove(partner_id).unwrap_or_default())
}

/// The cash and credit accounts of many partners in one query (a partner without accounts is
/// left out).
pub async fn partners_money(
    conn: &mut PgConnection,
    partner_ids: &[String],
) -> Result<std::collections::HashMap<String, PartnerMoney>, sqlx::Error> {
    let mut out = std::collections::HashMap::with_capacity(partner_ids.len());
    for (owner, row) in repo::partner_accounts(conn, partner_ids).await? {
        out.entry(owner)
            .or_insert_with(PartnerMoney::default)
            .add(&row);
    }
    Ok(out)
}

impl PartnerMoney {
    fn add(&mut self, row: &repo::AccountRow) {
        match row.purpose.as_str() {
            "partner_cash" => {
                self.cash_account_id = Some(row.id);
                self.cash = row.balance;
                self.designated = row.floor.unwrap_or(0);
            }
            "partner_credit" => {
                self.credit_account_id = Some(row.id);
                self.credit = row.balance;
                self.credit_limit = row.credit_limit;
            }
            _ => {}
        }
    }
}

/// Balances of one purpose for many owners (absent accounts are left out).
pub async fn balances(
    conn: &mut PgConnection,
    owner_ids: &[String],
    purpose: Purpose,
) -> Result<Vec<(String, AccountId, i64)>, sqlx::Error> {
    repo::balances(conn, owner_ids, purpose).await
}
