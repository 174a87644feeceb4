//! SQL functions the lake adds to DataFusion's, registered in every query session.
//!
//! `ip_prefix(ip, v4_bits [, v6_bits])` gives the network an address belongs to, in CIDR
//! notation: `ip_prefix('10.1.2.3', 24)` is `'10.1.2.0/24'`. Grouping by subnet is the most
//! common question asked of addresses (treemaps, heatmaps, "which /24s scan us"), and the
//! portable SQL spelling of it is a regular expression over every row, which was most of a
//! treemap's time. This reads the address once, without a regex.
//!
//! `ip_in(ip, 'net, net, ...')` says whether an address lies in one of the networks (CIDR,
//! IPv4 or IPv6, a constant): the analyses' "inside" test, one address parse per row where
//! the portable SQL spelling splits and casts every octet.
//!
//! IPv6 addresses get `v6_bits` when given and are returned as they are otherwise, so one
//! call serves a mixed column. Values that are not addresses are returned unchanged and
//! NULL stays NULL: grouping by prefix never loses or merges rows that are not addresses.

use std::net::Ipv6Addr;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringArrayType, StringBuilder};

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};
use datafusion::prelude::SessionContext;

/// Adds the lake's functions to a session.
pub fn register(ctx: &SessionContext) {
    ctx.register_udf(ScalarUDF::from(IpPrefix::new()));
    ctx.register_udf(ScalarUDF::from(IpIn::new()));
    if let Some(inner) = ctx.state().scalar_functions().get("date_trunc").cloned() {
        ctx.register_udf(ScalarUDF::from(UtcDateTrunc { inner }));
    }
}

/// The lake's functions on their own, for sessions built without a context (a worker's).
pub fn udfs() -> Vec<Arc<ScalarUDF>> {
    vec![
        Arc::new(ScalarUDF::from(IpPrefix::new())),
        Arc::new(ScalarUDF::from(IpIn::new())),
        Arc::new(ScalarUDF::from(UtcDateTrunc {
            inner: datafusion::functions::datetime::date_trunc(),
        })),
    ]
}

/// DataFusion's `date_trunc`, with its arithmetic fast path for hours and days also taken
/// for timestamps in UTC.
///
/// Event times are `TIMESTAMP(µs, 'UTC')`. DataFusion truncates hours and days with integer
/// arithmetic only for timestamps without a time zone; with one, even UTC, it converts every
/// value through the time-zone database, which made "events per hour" over 10 M rows spend
/// most of its time there. In UTC an hour and a day are fixed lengths, so the values are
/// truncated as zone-less timestamps and the zone put back: the same answers, from
/// DataFusion's own code. Everything else goes to DataFusion unchanged.
#[derive(Debug, PartialEq, Eq, Hash)]
struct UtcDateTrunc {
    inner: Arc<ScalarUDF>,
}

impl ScalarUDFImpl for UtcDateTrunc {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.inner().coerce_types(arg_types)
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.inner().return_type(arg_types)
    }

    fn return_field_from_args(
        &self,
        args: datafusion::logical_expr::ReturnFieldArgs,
    ) -> Result<datafusion::arrow::datatypes::FieldRef> {
        self.inner.return_field_from_args(args)
    }

    fn output_ordering(
        &self,
        input: &[datafusion::logical_expr::sort_properties::ExprProperties],
    ) -> Result<datafusion::logical_expr::sort_properties::SortProperties> {
        self.inner.inner().output_ordering(input)
    }

    fn documentation(&self) -> Option<&datafusion::logical_expr::Documentation> {
        self.inner.documentation()
    }

    fn invoke_with_args(&self, mut args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        use datafusion::arrow::datatypes::TimestampMicrosecondType;
        let fixed_unit = match &args.args[0] {
            ColumnarValue::Scalar(s) => s
                .try_as_str()
                .flatten()
                .is_some_and(|u| u.eq_ignore_ascii_case("hour") || u.eq_ignore_ascii_case("day")),
            ColumnarValue::Array(_) => false,
        };
        let utc = match &args.args[1] {
            ColumnarValue::Array(a) => match a.data_type() {
                DataType::Timestamp(
                    datafusion::arrow::datatypes::TimeUnit::Microsecond,
                    Some(tz),
                ) if is_utc(tz) => Some(tz.clone()),
                _ => None,
            },
            ColumnarValue::Scalar(_) => None,
        };
        let (true, Some(tz)) = (fixed_unit, utc) else {
            return self.inner.invoke_with_args(args);
        };
        let ColumnarValue::Array(a) = &args.args[1] else {
            unreachable!("checked above")
        };
        let zoneless = a
            .as_primitive::<TimestampMicrosecondType>()
            .clone()
            .with_timezone_opt(None::<Arc<str>>);
        args.args[1] = ColumnarValue::Array(Arc::new(zoneless));
        // The implementation itself: `ScalarUDF` would check the zone-less result against the
        // zoned type promised at planning.
        match self.inner.inner().invoke_with_args(args)? {
            ColumnarValue::Array(out) => Ok(ColumnarValue::Array(Arc::new(
                out.as_primitive::<TimestampMicrosecondType>()
                    .clone()
                    .with_timezone(tz),
            ))),
            scalar => Ok(scalar),
        }
    }
}

/// Zone names that mean UTC.
fn is_utc(tz: &str) -> bool {
    matches!(
        tz,
        "UTC" | "utc" | "Z" | "+00:00" | "+00" | "Etc/UTC" | "+0000"
    )
}

/// `ip_prefix(ip, v4_bits [, v6_bits])`; see the module documentation.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IpPrefix {
    signature: Signature,
}

impl IpPrefix {
    pub fn new() -> IpPrefix {
        let strings = [DataType::Utf8View, DataType::Utf8, DataType::LargeUtf8];
        let mut variants = Vec::new();
        for s in strings {
            variants.push(TypeSignature::Exact(vec![s.clone(), DataType::Int64]));
            variants.push(TypeSignature::Exact(vec![
                s,
                DataType::Int64,
                DataType::Int64,
            ]));
        }
        IpPrefix {
            signature: Signature::one_of(variants, Volatility::Immutable),
        }
    }
}

impl Default for IpPrefix {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for IpPrefix {
    fn name(&self) -> &str {
        "ip_prefix"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        if !(2..=3).contains(&arg_types.len()) {
            return plan_err!("ip_prefix takes an address and one or two prefix lengths");
        }
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let v4 = bits(&args.args[1], 32, "IPv4")?;
        let v6 = args.args.get(2).map(|a| bits(a, 128, "IPv6")).transpose()?;
        let prefix = Prefix { v4, v6 };
        match &args.args[0] {
            ColumnarValue::Scalar(s) => {
                let Some(text) = s.try_as_str() else {
                    return exec_err!("ip_prefix: the address must be text");
                };
                let out = text.map(|t| {
                    let mut buf = String::new();
                    prefix.write(t, &mut buf);
                    buf
                });
                Ok(ColumnarValue::Scalar(ScalarValue::Utf8(out)))
            }
            ColumnarValue::Array(a) => {
                let out = match a.data_type() {
                    DataType::Utf8View => prefix.column(a.as_string_view()),
                    DataType::Utf8 => prefix.column(a.as_string::<i32>()),
                    DataType::LargeUtf8 => prefix.column(a.as_string::<i64>()),
                    other => return exec_err!("ip_prefix: the address must be text, not {other}"),
                };
                Ok(ColumnarValue::Array(out))
            }
        }
    }
}

/// `ip_in(ip, networks)`; see the module documentation. A value that is not an address is
/// in no network (false); NULL stays NULL.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IpIn {
    signature: Signature,
}

impl IpIn {
    pub fn new() -> IpIn {
        let variants = [DataType::Utf8View, DataType::Utf8, DataType::LargeUtf8]
            .into_iter()
            .map(|s| TypeSignature::Exact(vec![s, DataType::Utf8]))
            .collect();
        IpIn {
            signature: Signature::one_of(variants, Volatility::Immutable),
        }
    }
}

impl Default for IpIn {
    fn default() -> Self {
        Self::new()
    }
}

/// The networks argument of `ip_in`: a constant list of CIDRs.
fn networks(arg: &ColumnarValue) -> Result<Vec<ipnet::IpNet>> {
    let ColumnarValue::Scalar(s) = arg else {
        return exec_err!(
            "ip_in: the networks must be a constant, like '10.0.0.0/8, 192.168.0.0/16'"
        );
    };
    let Some(Some(text)) = s.try_as_str() else {
        return exec_err!("ip_in: the networks must be text, like '10.0.0.0/8, 192.168.0.0/16'");
    };
    match text.parse::<crate::inside::InsideNetworks>() {
        Ok(n) => Ok(n.nets()),
        Err(e) => exec_err!("ip_in: {e}"),
    }
}

fn in_any(nets: &[ipnet::IpNet], value: &str) -> bool {
    value
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| nets.iter().any(|n| n.contains(&ip)))
}

impl ScalarUDFImpl for IpIn {
    fn name(&self) -> &str {
        "ip_in"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        use datafusion::arrow::array::BooleanArray;
        let nets = networks(&args.args[1])?;
        fn column<'a, A: StringArrayType<'a>>(nets: &[ipnet::IpNet], input: A) -> ArrayRef {
            Arc::new(
                input
                    .iter()
                    .map(|v| v.map(|v| in_any(nets, v)))
                    .collect::<BooleanArray>(),
            )
        }
        match &args.args[0] {
            ColumnarValue::Scalar(s) => {
                let Some(text) = s.try_as_str() else {
                    return exec_err!("ip_in: the address must be text");
                };
                Ok(ColumnarValue::Scalar(ScalarValue::Boolean(
                    text.map(|t| in_any(&nets, t)),
                )))
            }
            ColumnarValue::Array(a) => Ok(ColumnarValue::Array(match a.data_type() {
                DataType::Utf8View => column(&nets, a.as_string_view()),
                DataType::Utf8 => column(&nets, a.as_string::<i32>()),
                DataType::LargeUtf8 => column(&nets, a.as_string::<i64>()),
                other => return exec_err!("ip_in: the address must be text, not {other}"),
            })),
        }
    }
}

/// A prefix length argument: a constant between 0 and `max`.
fn bits(arg: &ColumnarValue, max: i64, family: &str) -> Result<u8> {
    match arg {
        ColumnarValue::Scalar(ScalarValue::Int64(Some(n))) if (0..=max).contains(n) => Ok(*n as u8),
        ColumnarValue::Scalar(_) => {
            exec_err!("ip_prefix: the {family} prefix length must be between 0 and {max}")
        }
        ColumnarValue::Array(_) => {
            exec_err!("ip_prefix: the {family} prefix length must be a constant")
        }
    }
}

/// The prefix lengths of one call.
#[derive(Clone, Copy, Debug)]
struct Prefix {
    v4: u8,
    v6: Option<u8>,
}

impl Prefix {
    fn column<'a, A: StringArrayType<'a>>(self, input: A) -> ArrayRef {
        // "255.255.255.0/24" is at most 18 bytes; most values are shorter.
        let mut out = StringBuilder::with_capacity(input.len(), input.len() * 16);
        let mut buf = String::with_capacity(64);
        for value in input.iter() {
            match value {
                Some(v) => {
                    buf.clear();
                    self.write(v, &mut buf);
                    out.append_value(&buf);
                }
                None => out.append_null(),
            }
        }
        Arc::new(out.finish())
    }

    /// Writes the network of `ip` to `out`, or `ip` itself when it has no prefix to take.
    fn write(self, ip: &str, out: &mut String) {
        if let Some(addr) = parse_v4(ip.as_bytes()) {
            let mask = if self.v4 == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(self.v4))
            };
            let net = addr & mask;
            for (i, octet) in net.to_be_bytes().into_iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                push_u8(out, octet);
            }
            out.push('/');
            push_u8(out, self.v4);
            return;
        }
        if let Some(bits) = self.v6
            && ip.contains(':')
            && let Ok(addr) = ip.parse::<Ipv6Addr>()
        {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(bits))
            };
            let net = Ipv6Addr::from(u128::from(addr) & mask);
            use std::fmt::Write;
            let _ = write!(out, "{net}/{bits}");
            return;
        }
        out.push_str(ip);
    }
}

/// A dotted-quad IPv4 address (`0`–`255` in each of four parts, at most three digits each).
fn parse_v4(s: &[u8]) -> Option<u32> {
    if s.len() < 7 || s.len() > 15 {
        return None;
    }
    let (mut addr, mut octet, mut digits, mut dots) = (0u32, 0u32, 0u8, 0u8);
    for &b in s {
        match b {
            b'0'..=b'9' => {
                octet = octet * 10 + u32::from(b - b'0');
                digits += 1;
                if digits > 3 || octet > 255 {
                    return None;
                }
            }
            b'.' if digits > 0 && dots < 3 => {
                addr = addr << 8 | octet;
                (octet, digits) = (0, 0);
                dots += 1;
            }
            _ => return None,
        }
    }
    (dots == 3 && digits > 0).then_some(addr << 8 | octet)
}

fn push_u8(out: &mut String, n: u8) {
    if n >= 100 {
        out.push(char::from(b'0' + n / 100));
    }
    if n >= 10 {
        out.push(char::from(b'0' + n / 10 % 10));
    }
    out.push(char::from(b'0' + n % 10));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefix(ip: &str, v4: u8, v6: Option<u8>) -> String {
        let mut out = String::new();
        Prefix { v4, v6 }.write(ip, &mut out);
        out
    }

    #[test]
    fn ipv4_networks() {
        assert_eq!(prefix("10.1.2.3", 24, None), "10.1.2.0/24");
        assert_eq!(prefix("192.168.200.255", 16, None), "192.168.0.0/16");
        assert_eq!(prefix("255.255.255.255", 32, None), "255.255.255.255/32");
        assert_eq!(prefix("172.31.7.9", 0, None), "0.0.0.0/0");
        assert_eq!(prefix("10.0.0.129", 25, None), "10.0.0.128/25");
        // Every octet width the formatter writes.
        assert_eq!(prefix("1.22.133.4", 32, None), "1.22.133.4/32");
    }

    #[test]
    fn ipv6_only_when_asked() {
        assert_eq!(prefix("2001:db8:1:2::5", 24, None), "2001:db8:1:2::5");
        assert_eq!(prefix("2001:db8:1:2::5", 24, Some(48)), "2001:db8:1::/48");
        assert_eq!(prefix("fe80::1", 24, Some(0)), "::/0");
    }

    #[test]
    fn other_text_is_returned_unchanged() {
        for s in [
            "",
            "host.example",
            "10.1.2",
            "10.1.2.3.4",
            "10.1.2.256",
            "1.2.3.4x",
            "01234.1.1.1",
            "1..2.3",
            ".1.2.3",
            "1.2.3.",
            "zz::1::2",
        ] {
            assert_eq!(prefix(s, 24, Some(64)), s, "{s:?}");
        }
    }

    #[test]
    fn parse_agrees_with_std_on_canonical_addresses() {
        for n in [
            0u32, 1, 255, 256, 0x0a000001, 0xc0a80101, 0xffffffff, 0x7f000001,
        ] {
            let text = std::net::Ipv4Addr::from(n).to_string();
            assert_eq!(parse_v4(text.as_bytes()), Some(n), "{text}");
        }
    }
}
