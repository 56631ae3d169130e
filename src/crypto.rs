//! Secrets at rest and passwords. Secret keys must be recoverable (HMAC needs them), so they are
//! encrypted with AES-256-GCM under a configured key; passwords are hashed with Argon2id.

use aes_gcm::{
    aead::{Aead, KeyInit},
    Aes256Gcm, Nonce,
};
use argon2::{
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use base64::Engine;
use rand::RngCore;

/// Encrypts and decrypts secret keys.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox([redacted])")
    }
}

#[derive(Debug, thiserror::Error)]
#[error("secret could not be decrypted")]
pub struct DecryptError;

impl SecretBox {
    pub fn from_base64(key: &str) -> Result<Self, &'static str> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(key)
            .map_err(|_| "not base64")?;
        if bytes.len() != 32 {
            return Err("not 32 bytes");
        }
        let cipher = Aes256Gcm::new_from_slice(&bytes).map_err(|_| "bad key")?;
        Ok(SecretBox { cipher })
    }

    /// Returns (nonce, ciphertext).
    pub fn seal(&self, plaintext: &str) -> (Vec<u8>, Vec<u8>) {
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let ct = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plaintext.as_bytes())
            .expect("AES-GCM encryption of a short secret cannot fail");
        (nonce.to_vec(), ct)
    }

    pub fn open(&self, nonce: &[u8], ciphertext: &[u8]) -> Result<String, DecryptError> {
        if nonce.len() != 12 {
            return Err(DecryptError);
        }
        let pt = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| DecryptError)?;
        String::from_utf8(pt).map_err(|_| DecryptError)
    }
}

pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut rand::thread_rng());
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing with default parameters cannot fail")
        .to_string()
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A random 6-digit verification code.
pub fn verification_code() -> String {
    format!("{:06}", rand::thread_rng().next_u32() % 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "ZGV2LXNlY3JldC1lbmNyeXB0aW9uLWtleS0zMmJ5dGU=";

    #[test]
    fn secrets_round_trip_and_tampering_is_detected() {
        let b = SecretBox::from_base64(KEY).unwrap();
        let (nonce, ct) = b.seal("exampleSecretKey");
        assert!(!ct.windows(7).any(|w| w == b"example"));
        assert_eq!(b.open(&nonce, &ct).unwrap(), "exampleSecretKey");
        let mut bad = ct.clone();
        bad[0] ^= 1;
        assert!(b.open(&nonce, &bad).is_err());
        let other =
            SecretBox::from_base64(&base64::engine::general_purpose::STANDARD.encode([7u8; 32]))
                .unwrap();
        assert!(other.open(&nonce, &ct).is_err());
    }

    #[test]
    fn passwords_verify() {
        let h = hash_password("Passw0rd!");
        assert!(verify_password("Passw0rd!", &h));
        assert!(!verify_password("Passw0rd?", &h));
        assert!(!verify_password("Passw0rd!", "garbage"));
    }
}
