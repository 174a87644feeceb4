//! Outgoing mail: SMTP when `smtp_url` is configured (lettre, TLS), otherwise one `.eml` file
//! per message in `<data>/outbox/`, so a fresh install works and tests read what was sent.
//! Bodies are plain text; lines longer than 76 characters (links) are quoted-printable.

use std::path::PathBuf;

use anyhow::Context;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::domain::Email;

#[derive(Clone)]
pub enum Mailer {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
    Outbox {
        dir: PathBuf,
        from: Mailbox,
    },
}

impl Mailer {
    pub fn new(smtp_url: Option<&str>, from: &str, outbox: PathBuf) -> anyhow::Result<Mailer> {
        let from: Mailbox = from
            .parse()
            .with_context(|| format!("mail_from {from:?} is not an address"))?;
        Ok(match smtp_url {
            Some(url) => Mailer::Smtp {
                transport: AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .context("smtp_url is not a valid SMTP URL")?
                    .build(),
                from,
            },
            None => Mailer::Outbox { dir: outbox, from },
        })
    }

    /// Sends one plain-text message.
    pub async fn send(&self, to: &Email, subject: &str, body: String) -> anyhow::Result<()> {
        let (Mailer::Smtp { from, .. } | Mailer::Outbox { from, .. }) = self;
        let to: Mailbox = to.as_str().parse().context("recipient address")?;
        let message = Message::builder()
            .from(from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            // lettre picks 7bit or quoted-printable (long links get soft line breaks).
            .body(body)
            .context("building the message")?;
        match self {
            Mailer::Smtp { transport, .. } => {
                transport.send(message).await.context("SMTP delivery")?;
            }
            Mailer::Outbox { dir, .. } => {
                tokio::fs::create_dir_all(dir)
                    .await
                    .with_context(|| format!("creating {}", dir.display()))?;
                let now = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
                let name = format!("{now}-{}.eml", hex::encode(rand::random::<[u8; 4]>()));
                let path = dir.join(name);
                tokio::fs::write(&path, message.formatted())
                    .await
                    .with_context(|| format!("writing {}", path.display()))?;
            }
        }
        Ok(())
    }
}
