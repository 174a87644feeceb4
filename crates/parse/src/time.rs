//! Calendar arithmetic and timestamp pieces shared by the parsers.
//!
//! Timestamps are microseconds since the Unix epoch, UTC. Log lines carry times in many
//! shapes (`Oct 21 06:06:58.096785`, `2005-10-21 06:06:58`, `17/May/2015:10:05:03 +0000`,
//! epoch seconds); these helpers read their pieces from bytes without allocating.
//! Times written without a zone are taken as UTC.
//!
//! **The year rule** for formats that print no year (pf, syslog): see [`YearGuess`].

use std::fmt::Write as _;

pub(crate) const MICROS_PER_SEC: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SEC;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01: (year, month 1-12, day 1-31).
pub(crate) fn civil_from_days(z: i64) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    ((y + i64::from(m <= 2)) as i32, m, d)
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Microseconds since the epoch of a UTC date and time, or None if a field is out of
/// range (Feb 30, hour 24, ...). Leap second 60 is accepted and folded into the next.
pub(crate) fn micros(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, us: u32) -> Option<i64> {
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60
    {
        return None;
    }
    let secs = i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s);
    Some(days_from_civil(y, mo, d) * MICROS_PER_DAY + secs * MICROS_PER_SEC + i64::from(us))
}

/// Month number (1-12) of an English three-letter abbreviation (case-sensitive as logs
/// print it: `Jan`, also accepting all-caps `JAN`).
#[inline]
pub(crate) fn month_from_abbr(b: &[u8]) -> Option<u32> {
    if b.len() != 3 {
        return None;
    }
    let k = [
        b[0].to_ascii_lowercase(),
        b[1].to_ascii_lowercase(),
        b[2].to_ascii_lowercase(),
    ];
    Some(match &k {
        b"jan" => 1,
        b"feb" => 2,
        b"mar" => 3,
        b"apr" => 4,
        b"may" => 5,
        b"jun" => 6,
        b"jul" => 7,
        b"aug" => 8,
        b"sep" => 9,
        b"oct" => 10,
        b"nov" => 11,
        b"dec" => 12,
        _ => return None,
    })
}

/// Reads exactly `n` ASCII digits at `b[i..]`.
#[inline]
pub(crate) fn digits(b: &[u8], i: usize, n: usize) -> Option<u32> {
    let s = b.get(i..i + n)?;
    let mut v = 0u32;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// Reads `HH:MM:SS` at `b[i..]`, then an optional `.fraction` (any number of digits,
/// kept to microseconds). Returns (seconds of day, micros, bytes used).
#[inline]
pub(crate) fn hms_frac(b: &[u8], i: usize) -> Option<(u32, u32, usize)> {
    let h = digits(b, i, 2)?;
    let m = digits(b, i + 3, 2)?;
    let s = digits(b, i + 6, 2)?;
    if b[i + 2] != b':' || b[i + 5] != b':' || h > 23 || m > 59 || s > 60 {
        return None;
    }
    let (us, n) = fraction(b, i + 8);
    Some((h * 3600 + m * 60 + s, us, 8 + n))
}

/// Reads an optional `.digits` (or `,digits`) fraction at `b[i..]`: (micros, bytes used).
#[inline]
pub(crate) fn fraction(b: &[u8], i: usize) -> (u32, usize) {
    if !matches!(b.get(i), Some(b'.') | Some(b',')) {
        return (0, 0);
    }
    // Microseconds, the common case (tcpdump, pf): six digits and no seventh, read
    // without the general loop's per-digit checks.
    if let Some(d) = b.get(i + 1..i + 7)
        && d.iter().all(u8::is_ascii_digit)
        && !b.get(i + 7).is_some_and(u8::is_ascii_digit)
    {
        let us = d.iter().fold(0u32, |us, &c| us * 10 + u32::from(c - b'0'));
        return (us, 7);
    }
    let mut us = 0u32;
    let mut n = 0;
    let mut j = i + 1;
    while let Some(&c) = b.get(j) {
        if !c.is_ascii_digit() {
            break;
        }
        if n < 6 {
            us = us * 10 + u32::from(c - b'0');
        }
        n += 1;
        j += 1;
    }
    if n == 0 {
        return (0, 0);
    }
    for _ in n..6 {
        us *= 10;
    }
    (us, j - i)
}

/// Epoch seconds with an optional fraction (`1379288667.706265`) to microseconds.
pub(crate) fn epoch_secs(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let (neg, b) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        _ => (false, b),
    };
    let mut secs: i64 = 0;
    let mut i = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        secs = secs.checked_mul(10)?.checked_add(i64::from(b[i] - b'0'))?;
        i += 1;
    }
    if i == 0 || i > 12 {
        return None;
    }
    let (us, n) = fraction(b, i);
    if i + n != b.len() {
        // Scientific notation as some JSON writers print it (1.5e9): go through f64.
        let v: f64 = s.parse().ok()?;
        return (v.is_finite() && v.abs() < 1e12).then(|| (v * 1e6).round() as i64);
    }
    let v = secs * MICROS_PER_SEC + i64::from(us);
    Some(if neg { -v } else { v })
}

/// Parses RFC 3339 / ISO 8601 date-times: `2005-10-21T06:06:58.096785Z`,
/// `2005-10-21 06:06:58`, `2024-01-01T00:00:00+02:00`, `...+0200`. A missing zone is UTC.
pub(crate) fn iso8601(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let (t, used) = iso8601_prefix(b)?;
    (used == b.len()).then_some(t)
}

/// Like [`iso8601`] but reads a prefix of `b`; returns (micros, bytes used).
pub(crate) fn iso8601_prefix(b: &[u8]) -> Option<(i64, usize)> {
    let y = digits(b, 0, 4)? as i32;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let mo = digits(b, 5, 2)?;
    let d = digits(b, 8, 2)?;
    if !matches!(b.get(10), Some(b'T') | Some(b' ') | Some(b't')) {
        return None;
    }
    let (sod, us, n) = hms_frac(b, 11)?;
    let mut i = 11 + n;
    let base = micros(y, mo, d, 0, 0, 0, us)? + i64::from(sod) * MICROS_PER_SEC;
    let off = match b.get(i) {
        Some(b'Z') | Some(b'z') => {
            i += 1;
            0
        }
        Some(&c @ (b'+' | b'-')) => {
            let oh = digits(b, i + 1, 2)?;
            let (om, n) = if b.get(i + 3) == Some(&b':') {
                (digits(b, i + 4, 2)?, 6)
            } else {
                (digits(b, i + 3, 2)?, 5)
            };
            i += n;
            let o = i64::from(oh * 60 + om) * 60 * MICROS_PER_SEC;
            if c == b'+' { o } else { -o }
        }
        _ => 0,
    };
    Some((base - off, i))
}

/// Appends `2005-10-21T06:06:58.096785Z` (RFC 3339, UTC, microseconds). Written digit
/// by digit: this runs for every row of CSV/JSON output.
pub(crate) fn write_rfc3339(out: &mut String, t: i64) {
    let days = t.div_euclid(MICROS_PER_DAY);
    let rem = t.rem_euclid(MICROS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    let secs = (rem / MICROS_PER_SEC) as u32;
    let us = (rem % MICROS_PER_SEC) as u32;
    let mut buf = [0u8; 27];
    if !(0..=9999).contains(&y) {
        // Outside four-digit years RFC 3339 has no form; print what the calendar says.
        let _ = write!(
            out,
            "{y}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{us:06}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        );
        return;
    }
    let y = y as u32;
    put_digits(&mut buf[0..4], y);
    buf[4] = b'-';
    put_digits(&mut buf[5..7], m);
    buf[7] = b'-';
    put_digits(&mut buf[8..10], d);
    buf[10] = b'T';
    put_digits(&mut buf[11..13], secs / 3600);
    buf[13] = b':';
    put_digits(&mut buf[14..16], secs / 60 % 60);
    buf[16] = b':';
    put_digits(&mut buf[17..19], secs % 60);
    buf[19] = b'.';
    put_digits(&mut buf[20..26], us);
    buf[26] = b'Z';
    out.push_str(std::str::from_utf8(&buf).unwrap_or_default());
}

/// Writes RFC 3339 times like [`write_rfc3339`], remembering the date of the last day
/// written: rows of a log mostly share the day, so the calendar work (and most of the
/// digits) is done once per day instead of once per row.
pub(crate) struct Rfc3339Writer {
    /// Day number (since 1970-01-01) of `date`; `i64::MIN` before the first time.
    day: i64,
    /// `YYYY-MM-DDT` of `day`.
    date: [u8; 11],
}

impl Default for Rfc3339Writer {
    fn default() -> Self {
        Rfc3339Writer {
            day: i64::MIN,
            date: [0; 11],
        }
    }
}

impl Rfc3339Writer {
    /// Appends `t` as `2005-10-21T06:06:58.096785Z`, exactly as [`write_rfc3339`] does,
    /// as bytes (the CSV writer assembles its cells as bytes).
    #[inline]
    pub fn write_bytes(&mut self, out: &mut Vec<u8>, t: i64) {
        match self.format(t) {
            Some(buf) => out.extend_from_slice(&buf),
            None => {
                let mut s = String::new();
                write_rfc3339(&mut s, t);
                out.extend_from_slice(s.as_bytes());
            }
        }
    }

    /// The 27 bytes of `t`, or None outside four-digit years (see [`write_rfc3339`]).
    #[inline]
    fn format(&mut self, t: i64) -> Option<[u8; 27]> {
        let days = t.div_euclid(MICROS_PER_DAY);
        if days != self.day {
            let (y, m, d) = civil_from_days(days);
            if !(0..=9999).contains(&y) {
                return None;
            }
            put_digits(&mut self.date[0..4], y as u32);
            self.date[4] = b'-';
            put_digits(&mut self.date[5..7], m);
            self.date[7] = b'-';
            put_digits(&mut self.date[8..10], d);
            self.date[10] = b'T';
            self.day = days;
        }
        let rem = t.rem_euclid(MICROS_PER_DAY);
        let secs = (rem / MICROS_PER_SEC) as u32;
        let us = (rem % MICROS_PER_SEC) as u32;
        let mut buf = [0u8; 27];
        buf[..11].copy_from_slice(&self.date);
        put_pair(&mut buf[11..13], secs / 3600);
        buf[13] = b':';
        put_pair(&mut buf[14..16], secs / 60 % 60);
        buf[16] = b':';
        put_pair(&mut buf[17..19], secs % 60);
        buf[19] = b'.';
        put_pair(&mut buf[20..22], us / 10_000);
        put_pair(&mut buf[22..24], us / 100 % 100);
        put_pair(&mut buf[24..26], us % 100);
        buf[26] = b'Z';
        Some(buf)
    }
}

/// Two decimal digits of `v` (0-99) from a table.
#[inline]
fn put_pair(buf: &mut [u8], v: u32) {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";
    let i = (v as usize % 100) * 2;
    buf[0] = PAIRS[i];
    buf[1] = PAIRS[i + 1];
}

/// Writes `v` as zero-padded decimal filling `buf`.
#[inline]
fn put_digits(buf: &mut [u8], mut v: u32) {
    for b in buf.iter_mut().rev() {
        *b = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// Chooses the year of timestamps that print none (pf/tcpdump `-ttt`, BSD syslog).
///
/// The rule, also in `docs/schema.md`:
/// 1. The reference is `--year` when given; otherwise the input file's modification
///    time (standard input: the current time). A log is written up to its mtime, so
///    its first line is at or before it.
/// 2. Without `--year`, the first line gets the reference year, or the year before if
///    in the reference year it would lie more than a day after the reference (a file
///    written in January that starts in December; a file last written on 3 December
///    that starts on 10 December). The day of slack is for time zones: log times are
///    local, the reference is UTC. With `--year`, the first line gets that year.
/// 3. Afterwards, when the month jumps back by six months or more (December to
///    January) the year goes up by one; when it jumps forward by six or more (a late
///    December line after January ones) that one line gets the year before.
#[derive(Clone, Debug)]
pub(crate) struct YearGuess {
    year: i32,
    /// The reference day (days since 1970-01-01), without `--year`.
    ref_day: Option<i64>,
    last_month: u32,
    /// The year given to the first line, once there was one.
    first: Option<i32>,
    /// New Year crossings seen (rule 3's year changes).
    crossings: u32,
}

/// What the year rule decided for a log, kept as a note on its dataset: a log without
/// years is dated by a rule, and whoever reads its events should be able to see which.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YearNote {
    /// The year of the first line.
    pub first_year: i32,
    /// The reference day (`YYYY-MM-DD`) when the year was chosen by the rule; `None` when
    /// it was given.
    pub reference: Option<String>,
    /// New Year crossings that moved the lines after them to the next year.
    pub crossings: u32,
}

impl std::fmt::Display for YearNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.reference {
            Some(r) => write!(
                f,
                "the log prints no year: its first line is dated {}, the year that puts no event after the reference day {r}",
                self.first_year
            )?,
            None => write!(
                f,
                "the log prints no year: its first line is dated {}, the year given",
                self.first_year
            )?,
        }
        match self.crossings {
            0 => Ok(()),
            1 => f.write_str(
                "; it crosses New Year once, and the lines after it are dated a year later",
            ),
            n => write!(
                f,
                "; it crosses New Year {n} times, each moving the lines after it a year later"
            ),
        }
    }
}

impl YearGuess {
    /// Year given by the user: used for the first line as is.
    pub fn explicit(year: i32) -> Self {
        YearGuess {
            year,
            ref_day: None,
            last_month: 0,
            first: None,
            crossings: 0,
        }
    }

    /// Reference time (file mtime or now), in microseconds since the epoch.
    pub fn from_reference(t: i64) -> Self {
        let day = t.div_euclid(MICROS_PER_DAY);
        let (y, _, _) = civil_from_days(day);
        YearGuess {
            year: y,
            ref_day: Some(day),
            last_month: 0,
            first: None,
            crossings: 0,
        }
    }

    /// Year for a line of month `month` (1-12) and day `day`, read in file order.
    #[inline]
    pub fn year_for(&mut self, month: u32, day: u32) -> i32 {
        if self.last_month == 0 {
            if let Some(reference) = self.ref_day
                && days_from_civil(self.year, month, day) > reference + 1
            {
                self.year -= 1;
            }
            self.last_month = month;
            self.first = Some(self.year);
            return self.year;
        }
        if month + 6 <= self.last_month {
            self.year += 1;
            self.crossings += 1;
        } else if month >= self.last_month + 6 {
            // A straggler from the previous year; do not move the current year.
            return self.year - 1;
        }
        self.last_month = month;
        self.year
    }
}

impl YearGuess {
    /// The state the next line's year depends on (see `LineParser::state_key`).
    pub fn key(&self) -> (i32, Option<i64>, u32, Option<i32>) {
        (self.year, self.ref_day, self.last_month, self.first)
    }

    pub fn crossings(&self) -> u32 {
        self.crossings
    }

    pub fn set_crossings(&mut self, n: u32) {
        self.crossings = n;
    }

    /// What the rule decided, once a line was dated by it.
    pub fn note(&self) -> Option<YearNote> {
        Some(YearNote {
            first_year: self.first?,
            reference: self.ref_day.map(|d| {
                let (y, m, day) = civil_from_days(d);
                format!("{y:04}-{m:02}-{day:02}")
            }),
            crossings: self.crossings,
        })
    }
}

/// Chooses the date of timestamps that print only a time of day (plain tcpdump):
/// the reference day (file mtime or now), the day before if the first time of day is
/// after the reference time of day, and one day more each time the clock goes back
/// by more than twelve hours (midnight).
#[derive(Clone, Debug)]
pub(crate) struct DayGuess {
    day: i64,
    ref_sod: Option<u32>,
    last_sod: Option<u32>,
}

impl DayGuess {
    pub fn from_reference(t: i64) -> Self {
        let day = t.div_euclid(MICROS_PER_DAY);
        let sod = (t.rem_euclid(MICROS_PER_DAY) / MICROS_PER_SEC) as u32;
        DayGuess {
            day,
            ref_sod: Some(sod),
            last_sod: None,
        }
    }

    /// The state the next time of day's date depends on.
    pub fn key(&self) -> (i64, Option<u32>, Option<u32>) {
        (self.day, self.ref_sod, self.last_sod)
    }

    /// Microseconds since the epoch of a time of day (seconds + micros).
    pub fn at(&mut self, sod: u32, us: u32) -> i64 {
        match self.last_sod {
            None if self.ref_sod.is_some_and(|r| sod > r) => {
                self.day -= 1;
            }
            Some(last) if sod + 43_200 < last => self.day += 1,
            _ => {}
        }
        self.last_sod = Some(sod);
        self.day * MICROS_PER_DAY + i64::from(sod) * MICROS_PER_SEC + i64::from(us)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for z in [-800_000i64, -1, 0, 1, 11_016, 13_078, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn pf_example_time() {
        // Oct 21 2005 06:06:58.096785 UTC
        let t = micros(2005, 10, 21, 6, 6, 58, 96_785).unwrap();
        let mut s = String::new();
        write_rfc3339(&mut s, t);
        assert_eq!(s, "2005-10-21T06:06:58.096785Z");
        assert_eq!(t, 1_129_874_818_096_785);
        assert!(micros(2005, 2, 29, 0, 0, 0, 0).is_none());
        assert!(micros(2004, 2, 29, 0, 0, 0, 0).is_some());
    }

    #[test]
    fn cached_writer_matches_the_plain_one() {
        let mut w = Rfc3339Writer::default();
        for t in [
            1_129_874_818_096_785,
            1_129_874_818_000_001,
            1_129_874_819_999_999,
            1_129_939_199_999_999,
            1_129_939_200_000_000,
            0,
            -1,
            -86_400_000_000,
            253_402_300_799_999_999,
            253_402_300_800_000_000,
            -62_167_219_200_000_001,
            i64::MAX,
            i64::MIN,
        ] {
            let (mut a, mut c) = (String::new(), Vec::new());
            write_rfc3339(&mut a, t);
            w.write_bytes(&mut c, t);
            assert_eq!(a.as_bytes(), c, "{t}");
        }
    }

    #[test]
    fn fractions_and_epochs() {
        assert_eq!(fraction(b".5", 0), (500_000, 2));
        assert_eq!(fraction(b".123456789x", 0), (123_456, 10));
        assert_eq!(fraction(b"x", 0), (0, 0));
        // Six digits (the fast path), and around it.
        assert_eq!(fraction(b".096785", 0), (96_785, 7));
        assert_eq!(fraction(b"06:58.096785 IP", 5), (96_785, 7));
        assert_eq!(fraction(b",000001", 0), (1, 7));
        assert_eq!(fraction(b".0967851", 0), (96_785, 8));
        assert_eq!(fraction(b".09678", 0), (96_780, 6));
        assert_eq!(fraction(b".09678x", 0), (96_780, 6));
        assert_eq!(fraction(b".", 0), (0, 0));
        assert_eq!(epoch_secs("1379288667.706265"), Some(1_379_288_667_706_265));
        assert_eq!(epoch_secs("1379288667"), Some(1_379_288_667_000_000));
        assert_eq!(epoch_secs("1.5e9"), Some(1_500_000_000_000_000));
        assert_eq!(epoch_secs("abc"), None);
    }

    #[test]
    fn iso_forms() {
        let utc = 1_129_874_818_096_785;
        assert_eq!(iso8601("2005-10-21T06:06:58.096785Z"), Some(utc));
        assert_eq!(iso8601("2005-10-21 06:06:58.096785"), Some(utc));
        assert_eq!(iso8601("2005-10-21T08:06:58.096785+02:00"), Some(utc));
        assert_eq!(iso8601("2005-10-21T04:06:58.096785-0200"), Some(utc));
        assert_eq!(iso8601("2005-10-21T06:06:58Zjunk"), None);
    }

    #[test]
    fn year_rule() {
        // Reference: a file last written in February 2024.
        let feb_2024 = micros(2024, 2, 10, 0, 0, 0, 0).unwrap();
        let mut g = YearGuess::from_reference(feb_2024);
        assert_eq!(g.year_for(12, 30), 2023); // starts in December: the year before
        assert_eq!(g.year_for(12, 31), 2023);
        assert_eq!(g.year_for(1, 1), 2024); // rolls over
        assert_eq!(g.year_for(2, 9), 2024);
        let note = g.note().unwrap();
        assert_eq!((note.first_year, note.crossings), (2023, 1));
        assert_eq!(note.reference.as_deref(), Some("2024-02-10"));
        let said = note.to_string();
        assert!(
            said.contains("dated 2023") && said.contains("after the reference day 2024-02-10"),
            "{said}"
        );
        assert!(said.contains("crosses New Year once"), "{said}");
        assert_eq!(
            YearGuess::from_reference(feb_2024).note(),
            None,
            "no line dated yet"
        );
        // Issue 17: written on 3 December, starting on 10 December: last year's, not a
        // date in the future. A day later than the reference is a time zone, not a year.
        let dec_3 = micros(2026, 12, 3, 15, 0, 0, 0).unwrap();
        assert_eq!(YearGuess::from_reference(dec_3).year_for(12, 10), 2025);
        assert_eq!(YearGuess::from_reference(dec_3).year_for(12, 4), 2026);
        assert_eq!(YearGuess::from_reference(dec_3).year_for(12, 3), 2026);
        assert_eq!(YearGuess::from_reference(dec_3).year_for(11, 28), 2026);
        let mut g = YearGuess::explicit(2005);
        assert_eq!(g.year_for(12, 1), 2005);
        assert_eq!(g.year_for(1, 1), 2006);
        assert_eq!(g.year_for(12, 31), 2005); // straggler
        assert_eq!(g.year_for(1, 2), 2006);
    }

    #[test]
    fn day_rule() {
        let t = micros(2024, 3, 5, 1, 0, 0, 0).unwrap();
        let mut g = DayGuess::from_reference(t);
        let a = g.at(23 * 3600, 0); // 23:00 is after 01:00: the day before
        assert_eq!(a, micros(2024, 3, 4, 23, 0, 0, 0).unwrap());
        let b = g.at(1800, 5);
        assert_eq!(b, micros(2024, 3, 5, 0, 30, 0, 5).unwrap());
    }
}
