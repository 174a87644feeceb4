//! Secrets: random tokens (sessions, CSRF, resets) stored only as SHA-256, and argon2id
//! password hashes computed off the async threads.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::domain::Password;

/// 256 random bits as 64 hex characters.
pub fn new_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// What the database stores instead of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Constant-time equality for tokens.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// argon2id with the crate's defaults (19 MiB, 2 passes), as a PHC string.
pub async fn hash_password(password: &Password) -> anyhow::Result<String> {
    let password = password.clone();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
            .map_err(|e| anyhow::anyhow!("salt: {e}"))?;
        Argon2::default()
            .hash_password(password.expose().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing the password: {e}"))
    })
    .await?
}

/// Checks a password against a stored hash. With `None` it still spends the time of one
/// verification, so the answer does not tell whether the account exists.
pub async fn verify_password(hash: Option<String>, password: &Password) -> anyhow::Result<bool> {
    let password = password.clone();
    tokio::task::spawn_blocking(move || {
        let stored = hash.unwrap_or_else(|| DUMMY.clone());
        let parsed = PasswordHash::new(&stored).map_err(|e| anyhow::anyhow!("stored hash: {e}"))?;
        Ok(Argon2::default()
            .verify_password(password.expose().as_bytes(), &parsed)
            .is_ok()
            && stored != *DUMMY)
    })
    .await?
}

static DUMMY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let salt = SaltString::encode_b64(&[7u8; 16]).expect("static salt");
    Argon2::default()
        .hash_password(b"no such account, no such password", &salt)
        .expect("hashing a constant")
        .to_string()
});

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn argon2id_round_trip() {
        let p = Password::typed("correct horse battery");
        let h = hash_password(&p).await.unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(!h.contains("correct horse"));
        assert!(verify_password(Some(h.clone()), &p).await.unwrap());
        assert!(
            !verify_password(Some(h), &Password::typed("wrong horse battery"))
                .await
                .unwrap()
        );
        assert!(!verify_password(None, &p).await.unwrap());
    }

    #[test]
    fn tokens_hash_and_compare() {
        let t = new_token();
        assert_eq!(t.len(), 64);
        assert_ne!(token_hash(&t), t);
        assert!(same(&t, &t.clone()) && !same(&t, &new_token()));
    }
}
