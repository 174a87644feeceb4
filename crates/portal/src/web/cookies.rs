//! Cookie names and attributes. Behind TLS (an `https://` public URL) cookies are `Secure`
//! and take the `__Host-` prefix, which browsers only accept with `Secure`, `Path=/` and no
//! `Domain`; always `HttpOnly` and `SameSite=Lax`.

use axum::http::{HeaderMap, HeaderValue, header};

pub fn session_name(secure: bool) -> &'static str {
    if secure {
        "__Host-secviz_session"
    } else {
        "secviz_session"
    }
}

pub fn csrf_name(secure: bool) -> &'static str {
    if secure {
        "__Host-secviz_csrf"
    } else {
        "secviz_csrf"
    }
}

/// A `Set-Cookie` value; `max_age` 0 deletes the cookie.
pub fn set_cookie(name: &str, value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let v = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static("invalid=1; Max-Age=0"))
}

/// The value of cookie `name` from the request's `Cookie` headers.
pub fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        // Our values are hex; anything else is not ours.
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}
