//! Identifiers. Account (domain) ids are 32 lowercase hex characters, like the vendor's.

use rand::{distributions::Alphanumeric, Rng};

pub type AccountId = String;

/// A new account (domain) id: 32 lowercase hex characters.
pub fn new_account_id() -> AccountId {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A new transaction id: a prefix (`AD` fund, `RE` reclaim, `DE` deposit, `CR` credit line), the
/// UTC time and 12 random hex characters, e.g. `AD20240131160000a1b2c3d4e5f6` (≤ 128 characters).
pub fn new_trans_id(prefix: &str, at: chrono::DateTime<chrono::Utc>) -> String {
    let rnd = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}{}{}", at.format("%Y%m%d%H%M%S"), &rnd[..12])
}

/// A new access key id: 20 upper-case alphanumerics, like the vendor's AKs.
pub fn new_access_key() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(20)
        .map(|b| (b as char).to_ascii_uppercase())
        .collect()
}

/// A new secret key: 40 alphanumerics.
pub fn new_secret_key() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(40)
        .map(char::from)
        .collect()
}

/// A random login name that satisfies the create-sub-customer rules: 32 characters,
/// a letter first, never all digits.
pub fn random_login_name() -> String {
    let mut rng = rand::thread_rng();
    let first = (b'a' + rng.gen_range(0..26)) as char;
    let rest: String = (&mut rng)
        .sample_iter(&Alphanumeric)
        .take(31)
        .map(|b| (b as char).to_ascii_lowercase())
        .collect();
    format!("{first}{rest}")
}

/// A random password that satisfies the password rules (used when the partner sends none).
pub fn random_password() -> String {
    let body: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(24)
        .map(char::from)
        .collect();
    format!("Aa1!{body}")
}

pub fn is_account_id(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_have_the_vendor_shape() {
        assert!(is_account_id(&new_account_id()));
        let ak = new_access_key();
        assert_eq!(ak.len(), 20);
        assert!(ak
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
        assert_eq!(new_secret_key().len(), 40);
        let name = random_login_name();
        assert_eq!(name.len(), 32);
        assert!(crate::domain::validate::login_name(&name).is_ok());
    }
}
