//! Time on chart axes: UTC calendar arithmetic (no time zone database: logs are read in UTC),
//! a ladder of "nice" steps from one second to years, tick placement on calendar boundaries,
//! and the automatic bucket width of time lines (also used by `secviz-views` to aggregate).

/// Microseconds per unit.
pub const SECOND: i64 = 1_000_000;
pub const MINUTE: i64 = 60 * SECOND;
pub const HOUR: i64 = 60 * MINUTE;
pub const DAY: i64 = 24 * HOUR;

/// A step of the ladder: fixed microseconds, or whole calendar months.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Micros(i64),
    Months(u32),
}

impl Step {
    /// Approximate length in microseconds (months count 30.44 days), for choosing a step.
    pub fn approx_micros(self) -> i64 {
        match self {
            Step::Micros(m) => m,
            Step::Months(n) => i64::from(n) * 2_629_746 * SECOND,
        }
    }

    /// The step in words: "5 minutes", "1 day", "3 months".
    pub fn describe(self) -> String {
        let (n, unit) = match self {
            Step::Months(12) => (1, "year"),
            Step::Months(n) if n % 12 == 0 => (i64::from(n / 12), "year"),
            Step::Months(n) => (i64::from(n), "month"),
            Step::Micros(m) if m % (7 * DAY) == 0 => (m / (7 * DAY), "week"),
            Step::Micros(m) if m % DAY == 0 => (m / DAY, "day"),
            Step::Micros(m) if m % HOUR == 0 => (m / HOUR, "hour"),
            Step::Micros(m) if m % MINUTE == 0 => (m / MINUTE, "minute"),
            Step::Micros(m) if m % SECOND == 0 => (m / SECOND, "second"),
            Step::Micros(m) if m % 1000 == 0 => (m / 1000, "millisecond"),
            Step::Micros(m) => (m, "microsecond"),
        };
        if n == 1 {
            format!("1 {unit}")
        } else {
            format!("{n} {unit}s")
        }
    }

    /// The first step boundary at or after `t` (UTC).
    pub fn ceil(self, t: i64) -> i64 {
        match self {
            Step::Micros(m) => t.div_euclid(m) * m + if t.rem_euclid(m) == 0 { 0 } else { m },
            Step::Months(n) => {
                let (y, mo, d) = civil_from_days(t.div_euclid(DAY));
                let mut months = i64::from(y) * 12 + i64::from(mo - 1);
                let start_of_month = days_from_civil(y, mo, 1) * DAY;
                if d != 1 || t != start_of_month {
                    months += 1;
                }
                let n = i64::from(n);
                let months =
                    months.div_euclid(n) * n + if months.rem_euclid(n) == 0 { 0 } else { n };
                month_start(months)
            }
        }
    }

    /// The boundary after `t`, which must itself be a boundary.
    pub fn next(self, t: i64) -> i64 {
        match self {
            Step::Micros(m) => t + m,
            Step::Months(n) => {
                let (y, mo, _) = civil_from_days(t.div_euclid(DAY));
                month_start(i64::from(y) * 12 + i64::from(mo - 1) + i64::from(n))
            }
        }
    }
}

fn month_start(months: i64) -> i64 {
    let y = months.div_euclid(12) as i32;
    let m = (months.rem_euclid(12) + 1) as u32;
    days_from_civil(y, m, 1) * DAY
}

/// The ladder of steps, shortest first.
pub const LADDER: &[Step] = &[
    Step::Micros(SECOND),
    Step::Micros(5 * SECOND),
    Step::Micros(15 * SECOND),
    Step::Micros(30 * SECOND),
    Step::Micros(MINUTE),
    Step::Micros(5 * MINUTE),
    Step::Micros(15 * MINUTE),
    Step::Micros(30 * MINUTE),
    Step::Micros(HOUR),
    Step::Micros(3 * HOUR),
    Step::Micros(6 * HOUR),
    Step::Micros(12 * HOUR),
    Step::Micros(DAY),
    Step::Micros(7 * DAY),
    Step::Months(1),
    Step::Months(3),
    Step::Months(12),
    Step::Months(60),
    Step::Months(120),
];

/// The smallest step that cuts `span` microseconds into at most `max_parts` parts.
pub fn step_for(span: i64, max_parts: i64) -> Step {
    let max_parts = max_parts.max(1);
    LADDER
        .iter()
        .copied()
        .find(|s| span / s.approx_micros() < max_parts)
        .unwrap_or(Step::Months(1200))
}

/// The bucket width of an automatic time line over `[min, max]`: about 60 to 200 buckets
/// for spans of seconds to decades, on calendar-aligned boundaries. Only fixed-length steps
/// are returned (months vary in length, which would make bar heights lie), so spans over a
/// few years get weeks.
pub fn auto_bucket(min_us: i64, max_us: i64) -> i64 {
    let span = (max_us - min_us).max(1);
    match step_for(span, 200) {
        Step::Micros(m) => m,
        Step::Months(_) => 7 * DAY,
    }
}

/// Days since 1970-01-01 to (year, month 1-12, day 1-31), proleptic Gregorian.
pub fn civil_from_days(z: i64) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    ((if m <= 2 { y + 1 } else { y }) as i32, m, d)
}

/// (year, month, day) to days since 1970-01-01.
pub fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = i64::from(if m <= 2 { y - 1 } else { y });
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) of a microsecond timestamp.
pub fn format_utc(t: i64) -> String {
    let (y, m, d) = civil_from_days(t.div_euclid(DAY));
    let s = t.rem_euclid(DAY) / SECOND;
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// A tick label suited to the step: dates for day steps and longer, times below.
pub fn tick_label(t: i64, step: Step) -> String {
    let full = format_utc(t);
    match step {
        Step::Months(n) if n % 12 == 0 => full[..4].to_string(),
        Step::Months(_) => full[..7].to_string(),
        Step::Micros(m) if m >= DAY => full[..10].to_string(),
        Step::Micros(m) if m >= MINUTE => {
            if t.rem_euclid(DAY) == 0 {
                full[5..10].to_string()
            } else {
                full[11..16].to_string()
            }
        }
        Step::Micros(_) => full[11..19].to_string(),
    }
}

/// Ticks over `[min, max]` (microseconds), at most about `max_ticks`.
pub fn ticks(min: i64, max: i64, max_ticks: i64) -> (Step, Vec<i64>) {
    let step = step_for((max - min).max(1), max_ticks.max(2));
    let mut out = Vec::new();
    let mut t = step.ceil(min);
    while t <= max && out.len() < 1000 {
        out.push(t);
        t = step.next(t);
    }
    (step, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_and_known_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        for z in [-1_000_000i64, -1, 0, 59, 10_957, 19_000, 2_000_000] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(format_utc(1_700_000_000 * SECOND), "2023-11-14 22:13:20");
    }

    #[test]
    fn buckets_grow_with_the_span() {
        assert_eq!(auto_bucket(0, 60 * SECOND), SECOND);
        assert_eq!(auto_bucket(0, DAY), 15 * MINUTE);
        assert_eq!(auto_bucket(0, 30 * DAY), 6 * HOUR);
        assert_eq!(auto_bucket(0, 3650 * DAY), 7 * DAY);
        assert_eq!(Step::Micros(HOUR).describe(), "1 hour");
        assert_eq!(Step::Months(3).describe(), "3 months");
    }

    #[test]
    fn month_ticks_fall_on_first_days() {
        let start = days_from_civil(2024, 1, 15) * DAY;
        let end = days_from_civil(2024, 12, 20) * DAY;
        let (step, t) = ticks(start, end, 8);
        assert_eq!(step, Step::Months(3));
        let labels: Vec<String> = t.iter().map(|&x| tick_label(x, step)).collect();
        assert_eq!(labels, ["2024-04", "2024-07", "2024-10"]);
    }
}
