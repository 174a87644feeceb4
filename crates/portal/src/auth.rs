//! Secrets: random tokens (sessions, CSRF, resets) stored only as SHA-256, and argon2id
//! password hashes computed off the async threads, on the bounded pool of
//! [`crate::hash_pool`] (each function takes the [`HashTicket`] it runs on).

use argon2::password_hash::{self, Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::domain::Password;
use crate::hash_pool::HashTicket;

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
pub async fn hash_password(ticket: HashTicket, password: &Password) -> anyhow::Result<String> {
    let password = password.clone();
    ticket
        .run(move || {
            let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
                .map_err(|e| anyhow::anyhow!("salt: {e}"))?;
            phc_hash(password.expose().as_bytes(), &salt)
                .map_err(|e| anyhow::anyhow!("hashing the password: {e}"))
        })
        .await?
}

/// Checks a password against a stored hash. With `None` it still spends the time of one
/// verification, so the answer does not tell whether the account exists.
pub async fn verify_password(
    ticket: HashTicket,
    hash: Option<String>,
    password: &Password,
) -> anyhow::Result<bool> {
    let password = password.clone();
    ticket
        .run(move || {
            let stored = hash.unwrap_or_else(|| DUMMY.clone());
            let parsed =
                PasswordHash::new(&stored).map_err(|e| anyhow::anyhow!("stored hash: {e}"))?;
            let right = phc_verify(password.expose().as_bytes(), &parsed)
                .map_err(|e| anyhow::anyhow!("checking the password: {e}"))?;
            Ok(right && stored != *DUMMY)
        })
        .await?
}

static DUMMY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let salt = SaltString::encode_b64(&[7u8; 16]).expect("static salt");
    phc_hash(b"no such account, no such password", &salt).expect("hashing a constant")
});

// argon2's own `hash_password` allocates its 19 MiB for every hash and frees it after. Under a
// burst of log-ins the allocator cannot give those blocks back (other requests' small
// allocations land in the freed space), and the resident set grows by 19 MiB a hash. Here
// each hashing thread (the pool's few, long-lived ones) allocates its memory once and reuses
// it: memory is `workers` × 19 MiB, whatever the load. The result is the same PHC string.
thread_local! {
    static MEMORY: std::cell::RefCell<Vec<Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `argon` into `out` on this thread's reusable memory.
fn with_memory(argon: &Argon2<'_>, pwd: &[u8], salt: &[u8], out: &mut [u8]) -> argon2::Result<()> {
    MEMORY.with_borrow_mut(|blocks| {
        let n = argon.params().block_count();
        if blocks.len() < n {
            blocks.resize(n, Block::default());
        }
        argon.hash_password_into_with_memory(pwd, salt, out, &mut blocks[..n])
    })
}

/// argon2id, version 0x13, default parameters: the PHC string `Argon2::default()` would give.
fn phc_hash(password: &[u8], salt: &SaltString) -> password_hash::Result<String> {
    let params = Params::default();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt.as_salt().decode_b64(&mut salt_buf)?;
    let out = Output::init_with(Params::DEFAULT_OUTPUT_LEN, |out| {
        Ok(with_memory(&argon, password, salt_bytes, out)?)
    })?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(salt.as_salt()),
        hash: Some(out),
    };
    Ok(phc.to_string())
}

/// Whether `password` gives `stored`, with the algorithm, version and parameters it names
/// (what `PasswordVerifier::verify_password` does; the comparison is constant-time).
fn phc_verify(password: &[u8], stored: &PasswordHash<'_>) -> password_hash::Result<bool> {
    let (Some(salt), Some(expected)) = (&stored.salt, &stored.hash) else {
        return Ok(false);
    };
    let algorithm = Algorithm::try_from(stored.algorithm)?;
    let version = match stored.version {
        Some(v) => Version::try_from(v)?,
        None => Version::default(),
    };
    let argon = Argon2::new(algorithm, version, Params::try_from(stored)?);
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_buf)?;
    let computed = Output::init_with(expected.len(), |out| {
        Ok(with_memory(&argon, password, salt_bytes, out)?)
    })?;
    Ok(computed == *expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn argon2id_round_trip() {
        let pool = crate::hash_pool::HashPool::new(1, 0);
        let t = || pool.admit().unwrap();
        let p = Password::typed("correct horse battery");
        let h = hash_password(t(), &p).await.unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(!h.contains("correct horse"));
        assert!(verify_password(t(), Some(h.clone()), &p).await.unwrap());
        assert!(
            !verify_password(t(), Some(h), &Password::typed("wrong horse battery"))
                .await
                .unwrap()
        );
        assert!(!verify_password(t(), None, &p).await.unwrap());
    }

    #[test]
    fn same_strings_as_argon2_itself() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let salt = SaltString::encode_b64(&[3u8; 16]).unwrap();
        let ours = phc_hash(b"correct horse battery", &salt).unwrap();
        let theirs = Argon2::default()
            .hash_password(b"correct horse battery", &salt)
            .unwrap()
            .to_string();
        assert_eq!(ours, theirs);
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse battery", &parsed)
                .is_ok()
        );
        // Other parameters, as an older or tuned site may have stored them.
        let tuned = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 3, 1, None).unwrap(),
        )
        .hash_password(b"tuned", &salt)
        .unwrap()
        .to_string();
        let tuned = PasswordHash::new(&tuned).unwrap();
        assert!(phc_verify(b"tuned", &tuned).unwrap());
        assert!(!phc_verify(b"tune", &tuned).unwrap());
    }

    #[test]
    fn tokens_hash_and_compare() {
        let t = new_token();
        assert_eq!(t.len(), 64);
        assert_ne!(token_hash(&t), t);
        assert!(same(&t, &t.clone()) && !same(&t, &new_token()));
    }
}
