//! The SDK-HMAC-SHA256 request signature of the official Huawei Cloud SDKs (00-overview.md §8),
//! byte for byte. Pure functions: the HTTP layer feeds them the raw request parts.

use hmac::{Hmac, Mac};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};

pub const ALGORITHM: &str = "SDK-HMAC-SHA256";
pub const DATE_FORMAT: &str = "%Y%m%dT%H%M%SZ";

/// RFC 3986 unreserved characters are kept; everything else is percent-encoded (upper-case hex).
const ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn enc(s: &str) -> String {
    utf8_percent_encode(s, ENCODE).to_string()
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// Canonical URI: decode the path, encode each segment, add a trailing `/`.
pub fn canonical_uri(raw_path: &str) -> String {
    let decoded = decode(raw_path);
    let mut out = decoded.split('/').map(enc).collect::<Vec<_>>().join("/");
    if !out.ends_with('/') {
        out.push('/');
    }
    out
}

/// Canonical query: split the raw query on `&` and `=`, decode, sort by key then value, re-encode.
pub fn canonical_query(raw_query: &str) -> String {
    let mut pairs: Vec<(String, String)> = raw_query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                decode(&k.replace('+', "%20")),
                decode(&v.replace('+', "%20")),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The request as the signer sees it. `headers` holds (lower-case name, value) for exactly the signed
/// headers, in any order.
pub struct CanonicalInput<'a> {
    pub method: &'a str,
    pub raw_path: &'a str,
    pub raw_query: &'a str,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

pub fn canonical_request(input: &CanonicalInput<'_>) -> String {
    let mut headers: Vec<(String, String)> = input
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    headers.sort();
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let signed: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        input.method.to_ascii_uppercase(),
        canonical_uri(input.raw_path),
        canonical_query(input.raw_query),
        canonical_headers,
        signed.join(";"),
        sha256_hex(input.body)
    )
}

pub fn string_to_sign(sdk_date: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{sdk_date}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

pub fn signature(secret_key: &str, string_to_sign: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret_key.as_bytes()).expect("HMAC accepts any key size");
    mac.update(string_to_sign.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Constant-time comparison of two hex signatures.
pub fn signatures_match(expected: &str, given: &str) -> bool {
    use subtle::ConstantTimeEq;
    expected.len() == given.len() && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

/// The parsed `Authorization: SDK-HMAC-SHA256 Access=..., SignedHeaders=..., Signature=...` header.
#[derive(Debug, PartialEq, Eq)]
pub struct Authorization {
    pub access_key: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

pub fn parse_authorization(value: &str) -> Option<Authorization> {
    let rest = value.strip_prefix(ALGORITHM)?.trim_start();
    let (mut access, mut signed, mut sig) = (None, None, None);
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k {
            "Access" => access = Some(v.to_string()),
            "SignedHeaders" => {
                signed = Some(
                    v.split(';')
                        .map(|h| h.trim().to_ascii_lowercase())
                        .collect::<Vec<_>>(),
                )
            }
            "Signature" => sig = Some(v.to_ascii_lowercase()),
            _ => return None,
        }
    }
    let (access_key, signed_headers, signature) = (access?, signed?, sig?);
    if access_key.is_empty() || signature.is_empty() || signed_headers.iter().any(|h| h.is_empty())
    {
        return None;
    }
    Some(Authorization {
        access_key,
        signed_headers,
        signature,
    })
}

/// Signs a request like the SDK does and returns the `Authorization` header value. `headers` must
/// already contain `host` and `x-sdk-date`; every header without `_` in its name is signed.
pub fn sign(
    access_key: &str,
    secret_key: &str,
    method: &str,
    raw_path: &str,
    raw_query: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> String {
    let signed: Vec<(String, String)> = headers
        .iter()
        .filter(|(k, _)| !k.contains('_'))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect();
    let date = signed
        .iter()
        .find(|(k, _)| k == "x-sdk-date")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let creq = canonical_request(&CanonicalInput {
        method,
        raw_path,
        raw_query,
        headers: &signed,
        body,
    });
    let sig = signature(secret_key, &string_to_sign(&date, &creq));
    let mut names: Vec<String> = signed.into_iter().map(|(k, _)| k).collect();
    names.sort();
    format!(
        "{ALGORITHM} Access={access_key}, SignedHeaders={}, Signature={sig}",
        names.join(";")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const AK: &str = "HPUAEXAMPLEAK1234567";
    const SK: &str = "exampleSecretKey0123456789abcdefEXAMPLE0";

    fn headers(host: &str) -> Vec<(String, String)> {
        vec![
            ("content-type".into(), "application/json".into()),
            ("host".into(), host.into()),
            ("user-agent".into(), "test-agent".into()),
            (
                "x-domain-id".into(),
                "0a1b2c3d4e5f60718293a4b5c6d7e8f9".into(),
            ),
            ("x-sdk-date".into(), "20250101T120000Z".into()),
        ]
    }

    #[test]
    fn vector_1_post_with_body() {
        let body = br#"{"customer_id": "0666aa7a7900d5c80f6dc01a9a3598a0", "amount": 10.00}"#;
        let h = headers("127.0.0.1:8080");
        let creq = canonical_request(&CanonicalInput {
            method: "POST",
            raw_path: "/v2/accounts/partner-accounts/adjust-amount",
            raw_query: "",
            headers: &h,
            body,
        });
        assert_eq!(
            creq,
            "POST\n/v2/accounts/partner-accounts/adjust-amount/\n\ncontent-type:application/json\nhost:127.0.0.1:8080\nuser-agent:test-agent\nx-domain-id:0a1b2c3d4e5f60718293a4b5c6d7e8f9\nx-sdk-date:20250101T120000Z\n\ncontent-type;host;user-agent;x-domain-id;x-sdk-date\n40f8401a34bc4c6eba3b5cbe8df0175bab453a01b918768627c3decdf26292fd"
        );
        let sts = string_to_sign("20250101T120000Z", &creq);
        assert!(sts.ends_with("37f98915c3bde9d840e8e83ca58d9171db7fbda61b1483361f46a2c0ea124217"));
        let auth = sign(
            AK,
            SK,
            "POST",
            "/v2/accounts/partner-accounts/adjust-amount",
            "",
            &h,
            body,
        );
        assert_eq!(auth, "SDK-HMAC-SHA256 Access=HPUAEXAMPLEAK1234567, SignedHeaders=content-type;host;user-agent;x-domain-id;x-sdk-date, Signature=4c7fe80d360950f52c8f539f9c9660cc92b2d79fac4db94cb3de863316ebfcab");
    }

    #[test]
    fn vector_2_get_with_encoded_query() {
        let q = "balance_type=BALANCE_TYPE_DEBIT&limit=10&offset=0&trade_time_begin=2024-01-01&x=a%20b%2Fc%3Ad";
        assert_eq!(canonical_query(q), q);
        let h = headers("127.0.0.1:8080");
        let creq = canonical_request(&CanonicalInput {
            method: "GET",
            raw_path: "/v2/accounts/partner-accounts/account-change-records",
            raw_query: q,
            headers: &h,
            body: b"",
        });
        let sts = string_to_sign("20250101T120000Z", &creq);
        assert!(sts.ends_with("73efa9173accc51bd439d69d94b9318e405ca38cb7f2fbbddde1f50c6b3bfa88"));
        assert_eq!(
            signature(SK, &sts),
            "1738c174ed662774a8fcaa400e22c2125452f91f491b2ed26f7c8f9b049a0146"
        );
    }

    #[test]
    fn vector_3_repeated_keys_and_non_ascii() {
        // Unsorted on the wire still canonicalises to the SDK's sorted form.
        let q = "operation_types=2&operation_types=1&limit=10&customer_id=%E5%AE%A2%E6%88%B7";
        assert_eq!(
            canonical_query(q),
            "customer_id=%E5%AE%A2%E6%88%B7&limit=10&operation_types=1&operation_types=2"
        );
        let h = headers("bss.example.local:8443");
        let creq = canonical_request(&CanonicalInput {
            method: "GET",
            raw_path: "/v2/promotions/benefits/partner-coupons/records/query",
            raw_query: q,
            headers: &h,
            body: b"",
        });
        let sts = string_to_sign("20250101T120000Z", &creq);
        assert!(sts.ends_with("cee145cdcee0d1447a5eccac6a65cbc8cb7670d0e22fb169b7239b9b1b8a0541"));
        assert_eq!(
            signature(SK, &sts),
            "b9243920885a0bcdde76d0365e27ab6ba09827f114602741c55c50c3778d2b0a"
        );
    }

    #[test]
    fn authorization_header_parses() {
        let a = parse_authorization(
            "SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;x-sdk-date, Signature=ABCD",
        )
        .unwrap();
        assert_eq!(a.access_key, "AK1");
        assert_eq!(a.signed_headers, vec!["host", "x-sdk-date"]);
        assert_eq!(a.signature, "abcd");
        assert!(parse_authorization("AWS4-HMAC-SHA256 Access=AK1").is_none());
        assert!(parse_authorization("SDK-HMAC-SHA256 Access=AK1, Signature=x").is_none());
    }

    #[test]
    fn canonical_uri_encodes_segments() {
        assert_eq!(canonical_uri("/v2/a%2Fb/c d"), "/v2/a/b/c%20d/");
        assert_eq!(canonical_uri("/"), "/");
    }
}
