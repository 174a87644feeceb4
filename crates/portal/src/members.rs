//! Member management outside the web (the `secviz user` command, test set-up, benchmarks):
//! the same parsing and hashing as sign-up.

use anyhow::Context;

use crate::auth;
use crate::config::Config;
use crate::db::Db;
use crate::db::ids::UserId;
use crate::db::users;
use crate::domain::{Email, Password, Role, Username};

/// Opens the configured database (creating the data folder) with migrations applied.
pub async fn open_db(config: &Config) -> anyhow::Result<Db> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data folder {}", config.data_dir.display()))?;
    Db::connect(&config.database_url()).await
}

/// Creates a member; `email` defaults to `<name>@localhost.invalid`. Returns the member id.
pub async fn create(
    db: &Db,
    name: &str,
    email: Option<&str>,
    password: &str,
    role: Role,
    now: i64,
) -> anyhow::Result<UserId> {
    let username = Username::parse(name)
        .map_err(|e| anyhow::anyhow!("username {}: {e}", secviz_parse::quoted(name)))?;
    let email = match email {
        Some(e) => Email::parse(e)
            .map_err(|err| anyhow::anyhow!("email {}: {err}", secviz_parse::quoted(e)))?,
        None => Email::parse(&format!("{}@localhost.invalid", username.as_str()))
            .map_err(|e| anyhow::anyhow!("{e}"))?,
    };
    let password = Password::parse_new(password, Some(username.as_str()))
        .map_err(|e| anyhow::anyhow!("password: {e}"))?;
    // One hash at a time, on a pool of its own (the command line and test set-up).
    let ticket = crate::hash_pool::HashPool::new(1, 0)
        .admit()
        .map_err(|_| anyhow::anyhow!("no room to hash the password"))?;
    let hash = auth::hash_password(ticket, &password).await?;
    let id = users::create(db, &username, &email, &hash, role, now)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    tracing::info!(target: "security", event = "admin", action = "member_created", member = username.as_str(), role = role.as_str());
    Ok(id)
}

/// Sets a member's role; errors when there is no such member.
pub async fn set_role(db: &Db, name: &str, role: Role) -> anyhow::Result<()> {
    let username = Username::parse(name)
        .map_err(|e| anyhow::anyhow!("username {}: {e}", secviz_parse::quoted(name)))?;
    if !users::set_role(db, username.as_str(), role).await? {
        anyhow::bail!("no member named {}", username.as_str());
    }
    Ok(())
}
