//! Time helpers: event times are microseconds since the epoch, UTC.

use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

pub(crate) const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Now, in microseconds since the epoch.
pub fn now_micros() -> i64 {
    let now = OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1000) as i64
}

/// RFC 3339 in UTC with microseconds (`2005-10-21T06:06:58.096785Z`); out-of-range
/// values print as a number so nothing panics.
pub fn format_micros(us: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(us as i128 * 1000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| format!("{us}us"))
}

/// Days since the epoch of a time.
pub(crate) fn day_number(us: i64) -> i64 {
    us.div_euclid(MICROS_PER_DAY)
}

/// `YYYY-MM-DD` of a day number (days since 1970-01-01).
pub(crate) fn day_label(day: i64) -> String {
    // Julian day of 1970-01-01 is 2440588.
    match i32::try_from(day + 2_440_588)
        .ok()
        .and_then(|j| Date::from_julian_day(j).ok())
    {
        Some(d) => format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()),
        None => format!("d{day}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_labels() {
        // 2005-10-21 06:06:58 UTC.
        let t = 1_129_874_818_000_000;
        assert_eq!(day_label(day_number(t)), "2005-10-21");
        assert_eq!(day_label(day_number(0)), "1970-01-01");
        assert_eq!(day_label(day_number(-1)), "1969-12-31");
        assert_eq!(format_micros(t), "2005-10-21T06:06:58Z");
        assert_eq!(format_micros(1), "1970-01-01T00:00:00.000001Z");
    }
}
