//! The secrets (admin token, token key, secret-key encryption key) are published development
//! values until configured. With `DATABASE_URL` the server refuses to start on them; with the
//! private cluster it generates random ones on first start and keeps them in `secrets.json`
//! (mode 0600) beside the cluster. `PARTNER_CENTER__DEV=true` keeps the development values.

use std::{collections::BTreeMap, path::Path};

use anyhow::Context;
use base64::Engine;
use rand::RngCore;

use crate::config::{Config, Secret, PUBLISHED_SECRETS};

/// The file holding the generated secrets, in the cluster's folder.
pub const FILE: &str = "secrets.json";

/// Why the server must not start with `DATABASE_URL`: the variables still unset or at their
/// published development value. `None` when every secret is the deployment's own (or in
/// development mode).
pub fn refusal(config: &Config) -> Option<String> {
    if config.dev {
        return None;
    }
    let unset = config.published_secrets();
    if unset.is_empty() {
        return None;
    }
    let names: Vec<&str> = unset.iter().map(|s| s.env).collect();
    Some(format!(
        "refusing to start with DATABASE_URL while {} {} unset or at the published development \
         value; set {} to secrets of your own (auth.secret_encryption_key: 32 random bytes in \
         base64, e.g. `head -c 32 /dev/urandom | base64`), or PARTNER_CENTER__DEV=true for \
         development",
        names.join(", "),
        if names.len() == 1 { "is" } else { "are" },
        if names.len() == 1 { "it" } else { "them" },
    ))
}

fn random_secret(key: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    if key == "auth.secret_encryption_key" {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    } else {
        hex::encode(bytes)
    }
}

/// Replaces every secret still at its development value with the one kept in
/// `<dir>/secrets.json`, generating (and saving) those not there yet. `cluster_existed`: the
/// cluster predates this file, so its stored secret keys were sealed with the development
/// encryption key, which is then kept (with a warning) instead of making them unreadable.
pub fn load_or_generate(
    config: &mut Config,
    dir: &Path,
    cluster_existed: bool,
) -> anyhow::Result<()> {
    if config.dev {
        return Ok(());
    }
    let path = dir.join(FILE);
    let mut kept: BTreeMap<String, String> = match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)
            .with_context(|| format!("{} is not a JSON object of strings", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let fresh_file = kept.is_empty();
    let mut changed = false;
    for s in &PUBLISHED_SECRETS {
        if config.secret_mut(s.key).expose() != s.published {
            continue;
        }
        let value = kept.entry(s.key.to_string()).or_insert_with(|| {
            changed = true;
            if s.key == "auth.secret_encryption_key" && fresh_file && cluster_existed {
                tracing::warn!(
                    "the private cluster predates {FILE}: keeping the development secret-key \
                     encryption key its secret keys were sealed with"
                );
                s.published.to_string()
            } else {
                random_secret(s.key)
            }
        });
        *config.secret_mut(s.key) = Secret::new(value.clone());
    }
    if changed {
        let text = serde_json::to_string_pretty(&kept)?;
        write_private(&path, text.as_bytes())
            .with_context(|| format!("saving the generated secrets to {}", path.display()))?;
        tracing::info!(file = %path.display(), "generated secrets saved (mode 0600)");
    }
    config
        .validate()
        .with_context(|| format!("the secrets in {}", path.display()))?;
    Ok(())
}

/// Writes a file readable by its owner only (created 0600, never briefly wider).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_names_the_unset_variables_unless_in_development_mode() {
        let mut cfg = Config::default();
        cfg.admin.token = Secret::new("my-own-admin-token-123");
        let why = refusal(&cfg).unwrap();
        assert!(why.contains("PARTNER_CENTER__AUTH__TOKEN_KEY"), "{why}");
        assert!(
            why.contains("PARTNER_CENTER__AUTH__SECRET_ENCRYPTION_KEY"),
            "{why}"
        );
        assert!(!why.contains("PARTNER_CENTER__ADMIN__TOKEN"), "{why}");
        cfg.dev = true;
        assert!(refusal(&cfg).is_none());
    }

    #[test]
    fn generated_secrets_are_random_private_and_kept() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("pc-secrets-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut a = Config::default();
        a.admin.token = Secret::new("configured-admin-token");
        load_or_generate(&mut a, &dir, false).unwrap();
        assert_eq!(a.admin.token.expose(), "configured-admin-token");
        assert!(a.published_secrets().is_empty());
        let mode = std::fs::metadata(dir.join(FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let mut b = Config::default();
        load_or_generate(&mut b, &dir, true).unwrap();
        assert_eq!(a.auth.token_key, b.auth.token_key);
        assert_eq!(a.auth.secret_encryption_key, b.auth.secret_encryption_key);
        // The admin token was not in the file yet: generated now, kept from now on.
        assert_ne!(b.admin.token.expose(), PUBLISHED_SECRETS[0].published);
        let mut c = Config::default();
        load_or_generate(&mut c, &dir, true).unwrap();
        assert_eq!(b.admin.token, c.admin.token);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_cluster_older_than_the_file_keeps_the_development_encryption_key() {
        let dir = std::env::temp_dir().join(format!("pc-secrets-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut cfg = Config::default();
        load_or_generate(&mut cfg, &dir, true).unwrap();
        assert_eq!(
            cfg.auth.secret_encryption_key.expose(),
            PUBLISHED_SECRETS[2].published
        );
        assert_ne!(cfg.auth.token_key.expose(), PUBLISHED_SECRETS[1].published);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
