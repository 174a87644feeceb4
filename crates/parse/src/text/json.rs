//! JSON helpers shared by the JSON lines and Zeek parsers: a nesting check that runs
//! before serde sees the line, flattening of nested objects into dotted keys, and
//! conversion of JSON values into event columns.

use serde_json::{Map, Value};

use super::scan;
use super::{Bad, bad};
use crate::reject::RejectReason;
use crate::row::{I, Row, S};
use crate::time;

/// Rejects a line nesting deeper than `max` (objects and arrays), without parsing it.
pub(crate) fn check_depth(line: &str, max: usize) -> Result<(), Bad> {
    let mut depth = 0usize;
    let mut in_str = false;
    let mut esc = false;
    for &c in line.as_bytes() {
        if in_str {
            match c {
                _ if esc => esc = false,
                b'\\' => esc = true,
                b'"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => in_str = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    return Err(Bad::new(
                        RejectReason::JsonTooDeep,
                        format!("JSON nests deeper than {max} levels"),
                    ));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// True if `s` is a number as JSON writes it (`-0.5`, `12`, `1e-3`; not `+1`, `.5`, `01`).
pub(crate) fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let int = scan::digit_run(&b[i..]);
    if int == 0 || (int > 1 && b[i] == b'0') {
        return false;
    }
    i += int;
    if b.get(i) == Some(&b'.') {
        let f = scan::digit_run(&b[i + 1..]);
        if f == 0 {
            return false;
        }
        i += 1 + f;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let e = scan::digit_run(&b[i..]);
        if e == 0 {
            return false;
        }
        i += e;
    }
    i == b.len()
}

/// Parses a JSON object line (after the depth check).
pub(crate) fn object(line: &str, max_depth: usize) -> Result<Map<String, Value>, Bad> {
    check_depth(line, max_depth)?;
    match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => bad(RejectReason::BadJson, "not a JSON object"),
        Err(e) => Err(Bad::new(
            RejectReason::BadJson,
            format!("invalid JSON: {e}"),
        )),
    }
}

/// Visits every leaf of an object with its dotted key (`{"source":{"ip":..}}` gives
/// `source.ip`). Arrays are leaves.
pub(crate) fn flatten<'a>(
    m: &'a Map<String, Value>,
    prefix: &mut String,
    f: &mut dyn FnMut(&str, &'a Value) -> Result<(), Bad>,
) -> Result<(), Bad> {
    for (k, v) in m {
        let len = prefix.len();
        if !prefix.is_empty() {
            prefix.push('.');
        }
        prefix.push_str(k);
        match v {
            Value::Object(inner) if !inner.is_empty() => flatten(inner, prefix, f)?,
            _ => f(prefix, v)?,
        }
        prefix.truncate(len);
    }
    Ok(())
}

/// A time value: a number of epoch seconds, milliseconds, microseconds or nanoseconds
/// (told apart by magnitude), or a string in ISO 8601 or epoch seconds.
pub(crate) fn time_value(v: &Value) -> Result<i64, Bad> {
    let t = match v {
        Value::Number(n) => n.as_f64().and_then(epoch_any),
        Value::String(s) => time::iso8601(s)
            .or_else(|| time::epoch_secs(s))
            .or_else(|| scan::uint(s).and_then(|n| epoch_any(n as f64))),
        _ => None,
    };
    t.ok_or_else(|| {
        Bad::new(
            RejectReason::BadTime,
            "time is not ISO 8601 or an epoch number",
        )
    })
}

/// Epoch seconds, ms, µs or ns to microseconds, by magnitude (valid 1973-5138).
pub(crate) fn epoch_any(x: f64) -> Option<i64> {
    if !x.is_finite() || x < 0.0 {
        return None;
    }
    let us = if x < 1e11 {
        x * 1e6
    } else if x < 1e14 {
        x * 1e3
    } else if x < 1e17 {
        x
    } else {
        x / 1e3
    };
    Some(us.round() as i64)
}

/// The text of a string or number value.
pub(crate) fn text(v: &Value) -> Option<std::borrow::Cow<'_, str>> {
    match v {
        Value::String(s) => Some(std::borrow::Cow::Borrowed(s)),
        Value::Number(n) => Some(std::borrow::Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(std::borrow::Cow::Borrowed(if *b {
            "true"
        } else {
            "false"
        })),
        _ => None,
    }
}

/// An unsigned integer from a number or a numeric string.
pub(crate) fn uint(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_u64().and_then(|u| i64::try_from(u).ok()).or_else(|| {
            n.as_f64()
                .filter(|f| *f >= 0.0 && f.fract() == 0.0 && *f < 9e18)
                .map(|f| f as i64)
        }),
        Value::String(s) => scan::uint(s).and_then(|u| i64::try_from(u).ok()),
        _ => None,
    }
}

/// A float from a number or a numeric string.
pub(crate) fn float(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
    .filter(|f: &f64| f.is_finite())
}

/// Sets an address column from a JSON value, or rejects.
pub(crate) fn set_ip(row: &mut Row<'_>, c: S, v: &Value) -> Result<(), Bad> {
    match v {
        Value::String(s) => scan::set_ip_copy(row, c, s),
        _ => bad(RejectReason::BadAddress, "address is not a string"),
    }
}

/// Sets a port column from a JSON value, or rejects.
pub(crate) fn set_port(row: &mut Row, c: I, v: &Value) -> Result<(), Bad> {
    match uint(v).filter(|&p| p <= 65_535) {
        Some(p) => {
            row.set_int(c, p);
            Ok(())
        }
        None => Err(scan::bad_port(&v.to_string())),
    }
}

/// Sets a count column from a JSON value, or rejects.
pub(crate) fn set_count(row: &mut Row, c: I, v: &Value) -> Result<(), Bad> {
    match uint(v) {
        Some(n) => {
            row.set_int(c, n);
            Ok(())
        }
        None => bad(
            RejectReason::BadNumber,
            "a count field is not a non-negative integer",
        ),
    }
}

/// Adds a value to `extra` under `key`, as JSON.
pub(crate) fn extra(row: &mut Row, key: &str, v: &Value) {
    match v {
        Value::String(s) => row.extra().str(key, s),
        Value::Null => {}
        other => row.extra().raw_json(key, &other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_limit_ignores_brackets_in_strings() {
        assert!(check_depth(r#"{"a":"[[[[[[[["}"#, 2).is_ok());
        assert!(check_depth(r#"{"a":[[1]]}"#, 2).is_err());
        assert!(check_depth(r#"{"a":"\"[[[\""}"#, 1).is_ok());
    }

    #[test]
    fn json_numbers() {
        for ok in ["0", "-0.5", "12", "1e-3", "0.000000", "1379288667.706265"] {
            assert!(is_json_number(ok), "{ok}");
        }
        for no in ["+1", ".5", "01", "1.", "inf", "NaN", "", "-", "1e"] {
            assert!(!is_json_number(no), "{no}");
        }
    }

    #[test]
    fn epochs_by_magnitude() {
        let s = 1_575_413_096_052_279i64;
        assert_eq!(epoch_any(1_575_413_096.052_279), Some(s));
        assert_eq!(epoch_any(1_575_413_096_052.0), Some(s / 1000 * 1000));
        assert_eq!(epoch_any(1_575_413_096_052_279.0), Some(s));
        assert_eq!(
            time_value(&Value::String("2019-12-03T22:44:56.052279Z".into())).unwrap(),
            s
        );
    }

    #[test]
    fn flattening() {
        let m = object(
            r#"{"source":{"ip":"1.2.3.4","port":5},"tags":["a"],"e":{}}"#,
            8,
        )
        .unwrap();
        let mut keys = Vec::new();
        flatten(&m, &mut String::new(), &mut |k, _| {
            keys.push(k.to_string());
            Ok(())
        })
        .unwrap();
        keys.sort();
        assert_eq!(keys, ["e", "source.ip", "source.port", "tags"]);
    }
}
