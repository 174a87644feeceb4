//! `secviz demo`: fills an empty site with generated datasets and data posts (a botnet link
//! graph, DNS traffic as linked views, a firewall puzzle), so a newcomer sees a live gallery
//! at once. The work is `secviz_portal::demo`; a site with posts or datasets is refused.
//!
//! `--admin NAME` also creates an administrator, so the admin page and moderation can be
//! tried: the password is read from standard input with `--admin-password-stdin` (or
//! `SECVIZ_PASSWORD`), else generated and printed once. It is never an argument (those show
//! in `ps` and shell history).

use std::process::ExitCode;

use anyhow::Context;

use super::serve::DataArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub data: DataArgs,
    /// Seed of the generated logs: the same seed gives the same data and pictures.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Also create an administrator NAME (password generated and printed once).
    #[arg(long, value_name = "NAME")]
    pub admin: Option<String>,
    /// Read the administrator's password from standard input (one line) instead.
    #[arg(long, requires = "admin")]
    pub admin_password_stdin: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let config = args.data.config();
    let (admin, generated) = match &args.admin {
        None => (None, false),
        Some(name) => {
            let given = std::env::var("SECVIZ_PASSWORD").is_ok() || args.admin_password_stdin;
            let password = if given {
                super::user::read_password()?
            } else {
                secviz_portal::demo::random_password()
            };
            let admin = secviz_portal::demo::DemoAdmin {
                name: name.clone(),
                password,
            };
            (Some(admin), !given)
        }
    };
    let shown_once = admin
        .as_ref()
        .filter(|_| generated)
        .map(|a| a.password.clone());
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let report = runtime.block_on(secviz_portal::demo::run(config, args.seed, admin))?;
    for p in &report.posts {
        println!("post {:>4}  {:>6} events  {}", p.id, p.events, p.title);
    }
    println!(
        "{} demo posts by member `{}`; start the portal with `secviz serve --data {}` and open the gallery.",
        report.posts.len(),
        secviz_portal::demo::DEMO_USER,
        args.data.data.display()
    );
    if let Some(name) = &report.admin {
        match &shown_once {
            Some(p) => println!(
                "administrator `{name}`, password {p} (shown this once: change it on the Account page)"
            ),
            None => println!("administrator `{name}` created with the password given"),
        }
    }
    Ok(ExitCode::SUCCESS)
}
