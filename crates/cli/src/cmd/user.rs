//! `secviz user`: manage portal members from the server, e.g. create the first admin.
//!
//! The password comes from `SECVIZ_PASSWORD` when set, otherwise from standard input: one
//! line, read without echo when it is a terminal. It is never a command-line argument (those
//! show in `ps` and shell history).

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;
use secviz_portal::Role;

use super::serve::DataArgs;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    command: UserCommand,
}

#[derive(clap::Subcommand, Debug)]
enum UserCommand {
    /// Create a member (password from SECVIZ_PASSWORD or standard input).
    Add {
        /// Username: 3–32 of a-z, 0-9, '_' and '-'.
        name: String,
        /// Email address (for password resets); default NAME@localhost.invalid.
        #[arg(long)]
        email: Option<String>,
        /// Make the member an administrator.
        #[arg(long, conflicts_with = "moderator")]
        admin: bool,
        /// Make the member a moderator.
        #[arg(long)]
        moderator: bool,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Change a member's role (member, moderator or admin).
    SetRole {
        name: String,
        role: String,
        #[command(flatten)]
        data: DataArgs,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    super::serve::init_logging();
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    match args.command {
        UserCommand::Add {
            name,
            email,
            admin,
            moderator,
            data,
        } => {
            let role = if admin {
                Role::Admin
            } else if moderator {
                Role::Moderator
            } else {
                Role::Member
            };
            let password = read_password()?;
            runtime.block_on(async {
                let db = secviz_portal::members::open_db(&data.config()).await?;
                let now = time_now();
                secviz_portal::members::create(&db, &name, email.as_deref(), &password, role, now)
                    .await?;
                db.close().await;
                anyhow::Ok(())
            })?;
            println!(
                "created {} {}",
                role.as_str(),
                name.trim().to_ascii_lowercase()
            );
        }
        UserCommand::SetRole { name, role, data } => {
            let role = Role::parse(&role).context("role must be member, moderator or admin")?;
            runtime.block_on(async {
                let db = secviz_portal::members::open_db(&data.config()).await?;
                secviz_portal::members::set_role(&db, &name, role).await?;
                db.close().await;
                anyhow::Ok(())
            })?;
            println!(
                "{} is now {}",
                name.trim().to_ascii_lowercase(),
                role.as_str()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn time_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The password from `SECVIZ_PASSWORD`, else one line of standard input (no echo on a
/// terminal).
pub fn read_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("SECVIZ_PASSWORD") {
        return Ok(p);
    }
    let stdin = std::io::stdin();
    let tty = stdin.is_terminal();
    if tty {
        eprint!("Password (at least 12 characters): ");
        let _ = std::io::stderr().flush();
        set_echo(false);
    }
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if tty {
        set_echo(true);
        eprintln!();
    }
    read.context("reading the password from standard input")?;
    let p = line.trim_end_matches(['\n', '\r']).to_string();
    anyhow::ensure!(
        !p.is_empty(),
        "no password given (set SECVIZ_PASSWORD or pipe it on standard input)"
    );
    Ok(p)
}

/// Turns terminal echo off or on with stty (best effort: without it the password shows).
fn set_echo(on: bool) {
    let _ = std::process::Command::new("stty")
        .arg(if on { "echo" } else { "-echo" })
        .stdin(std::process::Stdio::inherit())
        .status();
}
