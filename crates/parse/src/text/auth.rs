//! What syslog messages say, beyond host/app/message: authentication by sshd, sudo,
//! su, login and PAM (OCSF Authentication); firewall kernel lines are handed to
//! [`super::firewall`].
//!
//! Each recognised message gets `event_class`, `user`, `src_ip`/`src_port`,
//! `auth_result` (`success` or `failure`, only when the message states an outcome)
//! and an `activity` label in `extra` (e.g. `logon`, `invalid_user`, `disconnect`).
//! A message that is not recognised stays a plain `base_event`; it is never rejected.

use std::sync::LazyLock;

use memchr::memmem::{Finder, FinderRev};

use super::scan::{self, finder, is_ipv4, port, uint};
use crate::row::{I, Row, S};

pub(crate) const AUTH: &str = "authentication";

/// Reads the message of one syslog event (`app` and `msg` are slices of the line).
pub(crate) fn enrich<'a>(app: Option<&'a str>, msg: &'a str, row: &mut Row<'a>) {
    if finder!("SRC=").find(msg.as_bytes()).is_some()
        && finder!(" DST=").find(msg.as_bytes()).is_some()
    {
        super::firewall::firewall(msg, row);
        return;
    }
    // "message repeated 3 times: [ Failed password for root ...]": read the inner message.
    if let Some(r) = msg.strip_prefix("message repeated ")
        && let Some((n, inner)) = r.split_once(" times: [")
    {
        if let Some(n) = uint(n) {
            row.extra().int("repeated", n as i64);
        }
        let inner = inner.strip_suffix(']').unwrap_or(inner).trim();
        return enrich(app, inner, row);
    }
    let Some(app) = app else { return };
    let prog = scan::pos(app.as_bytes(), b'(').map_or(app, |i| &app[..i]);
    match prog {
        "sshd" => sshd(msg, row),
        "sudo" => sudo(msg, row),
        "su" | "login" | "gdm" | "gdm-binary" | "klogind" | "ftpd" | "vsftpd" | "proftpd"
        | "dovecot" | "passwd" | "systemd-logind" | "polkitd" | "cron" | "CRON" => {
            generic_auth(msg, row)
        }
        _ if finder!("(pam_unix)").find(app.as_bytes()).is_some()
            || msg.starts_with("pam_unix(") =>
        {
            generic_auth(msg, row)
        }
        _ => {}
    }
}

/// The word after `key` (up to a space), if `key` occurs.
fn after<'a>(msg: &'a str, key: &Finder<'static>) -> Option<&'a str> {
    let i = key.find(msg.as_bytes())?;
    let rest = &msg[i + key.needle().len()..];
    let w = scan::word(rest).0;
    (!w.is_empty()).then_some(w)
}

/// `key=value` where value ends at a space (`rhost=1.2.3.4`, `user=root`).
fn kv<'a>(msg: &'a str, key: &Finder<'static>) -> Option<&'a str> {
    let b = msg.as_bytes();
    let len = key.needle().len();
    let mut from = 0;
    while let Some(i) = key.find(&b[from..]) {
        let at = from + i;
        // Whole-word match: start of message or a space before.
        if at == 0 || b[at - 1] == b' ' {
            let w = scan::word(&msg[at + len..]).0;
            return (!w.is_empty()).then_some(w);
        }
        from = at + len;
    }
    None
}

/// Where the last " from " of `s` begins (`str::rfind` sets up a two-way searcher first).
fn last_from(s: &str) -> Option<usize> {
    static FROM: LazyLock<FinderRev<'static>> = LazyLock::new(|| FinderRev::new(" from "));
    FROM.rfind(s.as_bytes())
}

/// Sets `src_ip` if the text is an address (IPv4 or IPv6), else notes it as `rhost`.
fn set_remote<'a>(row: &mut Row<'a>, host: &'a str) {
    let host = host.trim_matches(|c| c == '[' || c == ']' || c == ',' || c == ':');
    if host.is_empty() || row.has(S::SrcIp) {
        return;
    }
    if is_ipv4(host) {
        row.set(S::SrcIp, host);
        return;
    }
    if host.contains(':') && scan::set_ip(row, S::SrcIp, host).is_ok() {
        return;
    }
    row.extra().str("rhost", host);
}

fn set_port_after(row: &mut Row<'_>, msg: &str) {
    if let Some(p) = after(msg, finder!(" port ")).and_then(port) {
        row.set_int(I::SrcPort, p);
    }
}

fn authn(row: &mut Row<'_>, activity: &str, result: Option<&'static str>) {
    row.set(S::EventClass, AUTH);
    if let Some(r) = result {
        row.set(S::AuthResult, r);
    }
    row.extra().str("activity", activity);
}

/// OpenSSH server messages.
fn sshd<'a>(msg: &'a str, row: &mut Row<'a>) {
    let m = msg.strip_prefix("error: ").unwrap_or(msg);
    if let Some(r) = m
        .strip_prefix("Accepted ")
        .or_else(|| m.strip_prefix("Failed "))
    {
        // Accepted|Failed METHOD for [invalid user ]USER from IP port N ssh2
        let ok = m.starts_with("Accepted");
        let (method, r) = scan::word(r);
        let r = r.strip_prefix("for ").unwrap_or(r);
        let (invalid, r) = match r.strip_prefix("invalid user ") {
            Some(r) => (true, r),
            None => (false, r),
        };
        // The user name may itself contain spaces; it ends at the last " from ".
        let (user, tail) = match last_from(r) {
            Some(i) => (&r[..i], &r[i..]),
            None => (r, ""),
        };
        authn(
            row,
            if ok { "logon" } else { "logon_failed" },
            Some(if ok { "success" } else { "failure" }),
        );
        row.set(S::User, user);
        row.extra().str("method", method);
        if invalid {
            row.extra().bool("invalid_user", true);
        }
        if let Some(ip) = after(tail, finder!(" from ")) {
            set_remote(row, ip);
        }
        set_port_after(row, tail);
        return;
    }
    if let Some(r) = m.strip_prefix("Invalid user ") {
        // Invalid user USER from IP [port N]
        let (user, tail) = match last_from(r) {
            Some(i) => (&r[..i], &r[i..]),
            None => (r, ""),
        };
        authn(row, "invalid_user", Some("failure"));
        row.set_nonempty(S::User, user);
        if let Some(ip) = after(tail, finder!(" from ")) {
            set_remote(row, ip);
        }
        set_port_after(row, tail);
        return;
    }
    if let Some(r) = m.strip_prefix("input_userauth_request: invalid user ") {
        authn(row, "invalid_user_request", None);
        let user = r.strip_suffix(" [preauth]").unwrap_or(r);
        row.set_nonempty(S::User, user);
        return;
    }
    if let Some(r) = m.strip_prefix("maximum authentication attempts exceeded for ") {
        authn(row, "max_auth_tries", Some("failure"));
        let r = r.strip_prefix("invalid user ").unwrap_or(r);
        let (user, tail) = match last_from(r) {
            Some(i) => (&r[..i], &r[i..]),
            None => (r, ""),
        };
        row.set_nonempty(S::User, user);
        if let Some(ip) = after(tail, finder!(" from ")) {
            set_remote(row, ip);
        }
        set_port_after(row, tail);
        return;
    }
    for (prefix, activity) in [
        ("Received disconnect from ", "disconnect"),
        ("Disconnected from ", "disconnect"),
        ("Connection closed by ", "connection_closed"),
        ("Connection reset by ", "connection_closed"),
        (
            "Did not receive identification string from ",
            "no_identification",
        ),
        ("Connection from ", "connection"),
    ] {
        if let Some(r) = m.strip_prefix(prefix) {
            authn(row, activity, None);
            // "[authenticating |invalid ]user USER IP port N"
            let r = r
                .strip_prefix("authenticating user ")
                .or_else(|| r.strip_prefix("invalid user "))
                .or_else(|| r.strip_prefix("user "))
                .map(|u| {
                    let (user, rest) = scan::word(u);
                    row.set(S::User, user);
                    rest
                })
                .unwrap_or(r);
            let (host, _) = scan::word(r);
            set_remote(row, host);
            set_port_after(row, r);
            return;
        }
    }
    if m.starts_with("reverse mapping checking getaddrinfo for ") || m.starts_with("Address ") {
        authn(row, "reverse_mapping_failed", None);
        if let (Some(o), Some(c)) = (m.find('['), m.find(']')) {
            if o < c {
                set_remote(row, &m[o + 1..c]);
            }
        } else if let Some(a) = m.strip_prefix("Address ") {
            set_remote(row, scan::word(a).0);
        }
        return;
    }
    generic_auth(msg, row);
}

/// `sudo: alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/ls`.
fn sudo<'a>(msg: &'a str, row: &mut Row<'a>) {
    let m = msg.trim_start();
    if let Some((user, rest)) = m.split_once(" : ")
        && !user.contains(' ')
        && !user.is_empty()
    {
        let failed = finder!("incorrect password")
            .find(rest.as_bytes())
            .is_some()
            || finder!("NOT in sudoers").find(rest.as_bytes()).is_some()
            || finder!("command not allowed")
                .find(rest.as_bytes())
                .is_some();
        authn(
            row,
            if failed { "sudo_denied" } else { "sudo" },
            Some(if failed { "failure" } else { "success" }),
        );
        row.set(S::User, user);
        for part in rest.split(" ; ") {
            if let Some(v) = part.strip_prefix("USER=") {
                row.extra().str("target_user", v);
            } else if let Some(v) = part.strip_prefix("COMMAND=") {
                row.extra().str("command", v);
            } else if let Some(v) = part.strip_prefix("TTY=") {
                row.extra().str("tty", v);
            }
        }
        return;
    }
    generic_auth(msg, row);
}

/// PAM and other programs: `authentication failure; ... rhost=IP user=U`,
/// `session opened for user U by (uid=0)`, `Authentication failed from IP`,
/// `check pass; user unknown`.
fn generic_auth<'a>(msg: &'a str, row: &mut Row<'a>) {
    let m = msg;
    let lower_has = |f: &Finder<'static>| f.find(m.as_bytes()).is_some();
    // "PAM 2 more authentication failures" repeats failures already logged: no outcome.
    let (activity, result) = if lower_has(finder!("more authentication failures"))
        || lower_has(finder!("Too many authentication failures"))
    {
        ("logon_failed_summary", None)
    } else if lower_has(finder!("authentication failure"))
        || lower_has(finder!("Authentication failed"))
        || lower_has(finder!("FAILED LOGIN"))
        || lower_has(finder!("Couldn't authenticate"))
    {
        ("logon_failed", Some("failure"))
    } else if lower_has(finder!("session opened for user")) {
        ("session_opened", None)
    } else if lower_has(finder!("session closed for user")) {
        ("session_closed", None)
    } else if lower_has(finder!("check pass; user unknown")) {
        ("unknown_user", None)
    } else if lower_has(finder!("ROOT LOGIN")) || lower_has(finder!("LOGIN ON")) {
        ("logon", Some("success"))
    } else if lower_has(finder!("connection from ")) {
        ("connection", None)
    } else {
        return;
    };
    if activity == "connection" {
        row.set(S::EventClass, super::packet::NETWORK);
        row.extra().str("activity", activity);
    } else {
        authn(row, activity, result);
    }
    if let Some(u) = kv(m, finder!("user="))
        .or_else(|| after(m, finder!("for user ")))
        .or_else(|| after(m, finder!("authentication failures for ")))
        .or_else(|| kv(m, finder!("logname=")).filter(|u| !u.is_empty()))
    {
        row.set(S::User, u);
    }
    if let Some(h) = kv(m, finder!("rhost=")) {
        set_remote(row, h);
    } else if let Some(h) =
        after(m, finder!("from ")).or_else(|| after(m, finder!("connection from ")))
    {
        set_remote(row, h);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run<'a>(app: &'a str, msg: &'a str) -> Row<'a> {
        let mut r = Row::default();
        enrich(Some(app), msg, &mut r);
        r
    }

    #[test]
    fn sshd_messages() {
        let mut r = run(
            "sshd",
            "Accepted password for alice from 10.0.0.5 port 52100 ssh2",
        );
        assert_eq!(r.get(S::EventClass), Some(AUTH));
        assert_eq!(r.get(S::AuthResult), Some("success"));
        assert_eq!(r.get(S::User), Some("alice"));
        assert_eq!(r.get(S::SrcIp), Some("10.0.0.5"));
        assert_eq!(r.get_int(I::SrcPort), Some(52100));
        assert_eq!(
            r.extra_json(),
            Some(r#"{"activity":"logon","method":"password"}"#)
        );
        let mut r = run(
            "sshd",
            "Failed password for invalid user admin from 187.141.143.180 port 44870 ssh2",
        );
        assert_eq!(r.get(S::AuthResult), Some("failure"));
        assert_eq!(r.get(S::User), Some("admin"));
        assert_eq!(
            r.extra_json(),
            Some(r#"{"activity":"logon_failed","method":"password","invalid_user":true}"#)
        );
        let r = run(
            "sshd",
            "Received disconnect from 139.59.209.18: 11: Bye Bye [preauth]",
        );
        assert_eq!(r.get(S::SrcIp), Some("139.59.209.18"));
        assert_eq!(r.get(S::AuthResult), None);
        let r = run(
            "sshd",
            "Disconnected from authenticating user root 1.2.3.4 port 22 [preauth]",
        );
        assert_eq!(r.get(S::User), Some("root"));
        assert_eq!(r.get(S::SrcIp), Some("1.2.3.4"));
        let r = run(
            "sshd",
            "reverse mapping checking getaddrinfo for ns.example.com [173.234.31.186] failed - POSSIBLE BREAK-IN ATTEMPT!",
        );
        assert_eq!(r.get(S::SrcIp), Some("173.234.31.186"));
        let r = run(
            "sshd",
            "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=112.95.230.3  user=root",
        );
        assert_eq!(r.get(S::User), Some("root"));
        assert_eq!(r.get(S::SrcIp), Some("112.95.230.3"));
        assert_eq!(r.get(S::AuthResult), Some("failure"));
    }

    #[test]
    fn sudo_and_pam() {
        let mut r = run(
            "sudo",
            "   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/ls -l",
        );
        assert_eq!(r.get(S::User), Some("alice"));
        assert_eq!(r.get(S::AuthResult), Some("success"));
        assert_eq!(
            r.extra_json(),
            Some(
                r#"{"activity":"sudo","tty":"pts/0","target_user":"root","command":"/bin/ls -l"}"#
            )
        );
        let r = run(
            "sudo",
            "bob : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/ ; USER=root ; COMMAND=/bin/sh",
        );
        assert_eq!(r.get(S::AuthResult), Some("failure"));
        let mut r = run(
            "sshd(pam_unix)",
            "authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4 ",
        );
        assert_eq!(r.get(S::SrcIp), Some("218.188.2.4"));
        assert_eq!(r.get(S::User), None);
        assert_eq!(r.extra_json(), Some(r#"{"activity":"logon_failed"}"#));
        let mut r = run(
            "sshd(pam_unix)",
            "authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=host.example.com  user=root",
        );
        assert_eq!(r.get(S::SrcIp), None);
        assert_eq!(
            r.extra_json(),
            Some(r#"{"activity":"logon_failed","rhost":"host.example.com"}"#)
        );
        let r = run("su(pam_unix)", "session opened for user cyrus by (uid=0)");
        assert_eq!(r.get(S::User), Some("cyrus"));
    }
}
