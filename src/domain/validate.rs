//! Field rules of the contract that do not depend on stored data.

/// Login (domain) name of create-sub-customer: 5–32 characters of `[a-zA-Z0-9_-]`, the first a letter,
/// `_` or `-`; not starting with `op_` or `shadow_`; not all digits.
pub fn login_name(name: &str) -> Result<(), &'static str> {
    let len = name.chars().count();
    if !(5..=32).contains(&len) {
        return Err("must be 5 to 32 characters long");
    }
    let mut chars = name.chars();
    let first = chars.next().unwrap_or('0');
    if !(first.is_ascii_alphabetic() || first == '_' || first == '-') {
        return Err("must start with a letter, '_' or '-'");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err("may contain only letters, digits, '_' and '-'");
    }
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("op_") || lower.starts_with("shadow_") {
        return Err("must not start with op_ or shadow_");
    }
    if name.chars().all(|c| c.is_ascii_digit()) {
        return Err("must not be all digits");
    }
    Ok(())
}

/// Login name as check-identity's `search_value` for `name`: `^([a-zA-Z-]([a-zA-Z0-9_-]){4,31})$`,
/// not starting with `op_`/`shadow_`, not all digits.
pub fn identity_login_name(name: &str) -> Result<(), &'static str> {
    let first = name.chars().next().unwrap_or('0');
    if !(first.is_ascii_alphabetic() || first == '-') {
        return Err("must start with a letter or '-'");
    }
    login_name(name)
}

/// A Chinese mobile number without country prefix: 11 digits starting with 1.
pub fn chinese_mobile(m: &str) -> bool {
    m.len() == 11 && m.starts_with('1') && m.bytes().all(|b| b.is_ascii_digit())
}

/// check-identity mobile form: `0086-13xxxxxxxxx` (only country code 0086 is supported).
pub fn identity_mobile(v: &str) -> Result<&str, &'static str> {
    let (cc, number) = v.split_once('-').ok_or("must look like 0086-13XXXXXXXXX")?;
    if cc.len() != 4 || !cc.bytes().all(|b| b.is_ascii_digit()) || number.is_empty() {
        return Err("must look like 0086-13XXXXXXXXX");
    }
    if !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err("must look like 0086-13XXXXXXXXX");
    }
    if cc != "0086" {
        return Err("only the country code 0086 is supported");
    }
    if !chinese_mobile(number) {
        return Err("must be a Chinese mobile number");
    }
    Ok(number)
}

pub fn email(v: &str) -> bool {
    match v.split_once('@') {
        Some((local, domain)) => !local.is_empty() && !domain.is_empty() && !v.contains(' '),
        None => false,
    }
}

/// Password rules of create-sub-customer: 8–32 characters, at least two of {upper, lower, digit,
/// special}; differs from the login name and from the reversed login name; does not contain the
/// mobile number.
pub fn password(pw: &str, login_name: &str, mobile: Option<&str>) -> Result<(), &'static str> {
    let len = pw.chars().count();
    if !(8..=32).contains(&len) {
        return Err("must be 8 to 32 characters long");
    }
    let classes = [
        pw.chars().any(|c| c.is_ascii_uppercase()),
        pw.chars().any(|c| c.is_ascii_lowercase()),
        pw.chars().any(|c| c.is_ascii_digit()),
        pw.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    if classes.iter().filter(|c| **c).count() < 2 {
        return Err("must contain at least two of upper-case letters, lower-case letters, digits and special characters");
    }
    let reversed: String = login_name.chars().rev().collect();
    if pw.eq_ignore_ascii_case(login_name) || pw.eq_ignore_ascii_case(&reversed) {
        return Err("must differ from the account name and from the reversed account name");
    }
    if let Some(m) = mobile.filter(|m| !m.is_empty()) {
        if pw.contains(m) {
            return Err("must not contain the mobile number");
        }
    }
    Ok(())
}

/// Escapes a value for a `LIKE '%' || $1 || '%'` substring match so `%`, `_` and `\` match literally.
pub fn like_escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    for c in v.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The literal text of a value escaped by [`like_escape`] (`\x` is x): its inverse, for a
/// search that takes the substring through another index than LIKE (`db::customers`).
pub fn like_unescape(escaped: &str) -> String {
    let mut out = String::with_capacity(escaped.len());
    let mut chars = escaped.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' {
            chars.next().unwrap_or(c)
        } else {
            c
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_names() {
        assert!(login_name("abcde").is_ok());
        assert!(login_name("_abc-d").is_ok());
        assert!(login_name("abcd").is_err());
        assert!(login_name(&"a".repeat(33)).is_err());
        assert!(login_name("1abcde").is_err());
        assert!(login_name("op_abcde").is_err());
        assert!(login_name("shadow_abc").is_err());
        assert!(login_name("ab cde").is_err());
        assert!(login_name("abcdé").is_err());
        assert!(identity_login_name("_abcde").is_err());
        assert!(identity_login_name("-abcde").is_ok());
    }

    #[test]
    fn mobiles() {
        assert!(chinese_mobile("13800000000"));
        assert!(!chinese_mobile("23800000000"));
        assert!(!chinese_mobile("1380000000"));
        assert_eq!(identity_mobile("0086-13800000000"), Ok("13800000000"));
        assert!(identity_mobile("0087-13800000000").is_err());
        assert!(identity_mobile("86-13800000000").is_err());
        assert!(identity_mobile("13800000000").is_err());
    }

    #[test]
    fn passwords() {
        assert!(password("Passw0rd", "alice01", None).is_ok());
        assert!(password("password", "alice01", None).is_err());
        assert!(password("Pa1", "alice01", None).is_err());
        assert!(password("alice01X", "alice01x", None).is_err());
        assert!(password("X10ecila", "x10ecila", None).is_err());
        assert!(password("X13800000000", "alice01", Some("13800000000")).is_err());
    }

    #[test]
    fn like_values_are_literal() {
        assert_eq!(like_escape(r"a%b_c\d"), r"a\%b\_c\\d");
        assert_eq!(like_unescape(r"a\%b\_c\\d"), r"a%b_c\d");
    }

    proptest::proptest! {
        #[test]
        fn like_unescape_inverts_like_escape(v in "\\PC{0,40}") {
            proptest::prop_assert_eq!(like_unescape(&like_escape(&v)), v);
        }
    }
}
