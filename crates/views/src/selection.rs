//! [`Selection`]: what a member brushed in the linked views (values of fields, a time range,
//! numeric ranges), and its translation into a SQL predicate whose values are parameters
//! typed like their columns. It is also the JSON the viewer sends (`?sel=`) and that a
//! comment may carry to open a view with a selection applied.

use std::collections::BTreeMap;

use secviz_lake::datafusion::arrow::datatypes::{DataType, TimeUnit};
use secviz_lake::datafusion::common::ScalarValue;
use secviz_parse::schema::{col, event_schema};
use serde::{Deserialize, Serialize};

use crate::error::ViewError;
use crate::field::{Field, FieldKind};
use crate::sql::Sql;

/// Most values one field may select (a request larger than this is refused, not cut).
pub const MAX_VALUES: usize = 1000;
/// Most fields one selection may constrain.
pub const MAX_FIELDS: usize = 16;

/// A value as JSON carries it: text or a number; `null` means "no value".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    Text(String),
    Int(i64),
    Float(f64),
}

/// A linked-brushing selection. Every part narrows it (they are ANDed); empty selects all.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selection {
    /// Records whose field has one of these values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub values: BTreeMap<String, Vec<Option<Scalar>>>,
    /// Records whose field has none of these values (the "other" bar).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub exclude: BTreeMap<String, Vec<Option<Scalar>>>,
    /// Records whose numeric field lies in `[lo, hi]`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ranges: BTreeMap<String, [f64; 2]>,
    /// Records with `lo <= time < hi` (microseconds since the epoch, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<[i64; 2]>,
}

impl Selection {
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
            && self.exclude.is_empty()
            && self.ranges.is_empty()
            && self.time.is_none()
    }

    /// Parses the `?sel=` JSON; an empty string is the empty selection.
    pub fn from_json(text: &str) -> Result<Selection, ViewError> {
        if text.trim().is_empty() {
            return Ok(Selection::default());
        }
        serde_json::from_str(text).map_err(|e| ViewError::BadRequest(format!("selection: {e}")))
    }

    /// The SQL predicate (`TRUE` when empty), with parameters.
    pub fn predicate(&self) -> Result<Sql, ViewError> {
        if self.values.len() + self.exclude.len() + self.ranges.len() > MAX_FIELDS {
            return Err(ViewError::BadRequest(format!(
                "a selection may constrain at most {MAX_FIELDS} fields"
            )));
        }
        let mut parts: Vec<Sql> = Vec::new();
        for (name, vals) in &self.values {
            parts.push(in_list(parse_field(name)?, vals, false)?);
        }
        for (name, vals) in &self.exclude {
            parts.push(in_list(parse_field(name)?, vals, true)?);
        }
        for (name, [lo, hi]) in &self.ranges {
            let field = parse_field(name)?;
            if !matches!(field.kind(), FieldKind::Measure | FieldKind::Code) {
                return Err(ViewError::BadRequest(format!(
                    "{field} is not numeric: select values instead of a range"
                )));
            }
            if !(lo.is_finite() && hi.is_finite()) || lo > hi {
                return Err(ViewError::BadRequest(format!("invalid range for {field}")));
            }
            let mut s = Sql::new(format!("({} >= ", field.sql()));
            s.param(number_param(field, lo.ceil(), *lo)?)
                .push(&format!(" AND {} <= ", field.sql()))
                .param(number_param(field, hi.floor(), *hi)?)
                .push(")");
            parts.push(s);
        }
        if let Some([lo, hi]) = self.time {
            let mut s = Sql::new(format!("(\"{}\" >= ", col::TIME));
            s.param(time_param(lo))
                .push(&format!(" AND \"{}\" < ", col::TIME))
                .param(time_param(hi))
                .push(")");
            parts.push(s);
        }
        Ok(and_all(parts))
    }
}

/// `a AND b AND ...`, or `TRUE`.
pub(crate) fn and_all(parts: Vec<Sql>) -> Sql {
    if parts.is_empty() {
        return Sql::new("TRUE");
    }
    let mut out = Sql::new("(");
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push(" AND ");
        }
        out.append(p);
    }
    out.push(")");
    out
}

fn parse_field(name: &str) -> Result<Field, ViewError> {
    Field::parse(name).map_err(|e| ViewError::BadRequest(e.to_string()))
}

pub(crate) fn time_param(us: i64) -> ScalarValue {
    ScalarValue::TimestampMicrosecond(Some(us), Some("UTC".into()))
}

/// The column's Arrow type (derived fields are text).
fn data_type(field: Field) -> DataType {
    match field {
        Field::Subnet24(_) => DataType::Utf8,
        Field::Column(c) => event_schema()
            .field_with_name(c)
            .map(|f| f.data_type().clone())
            .unwrap_or(DataType::Utf8),
    }
}

/// A numeric parameter of the column's type: integers use `int` (the range end rounded
/// inwards), floats the exact value.
fn number_param(field: Field, int: f64, exact: f64) -> Result<ScalarValue, ViewError> {
    Ok(match data_type(field) {
        DataType::Int32 => ScalarValue::Int32(Some(
            int.clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32,
        )),
        DataType::Int64 => ScalarValue::Int64(Some(int as i64)),
        DataType::Float64 => ScalarValue::Float64(Some(exact)),
        other => {
            return Err(ViewError::BadRequest(format!(
                "{field} ({other}) has no numeric range"
            )));
        }
    })
}

/// A value parameter typed like the field, from text or a number.
pub(crate) fn value_param(field: Field, v: &Scalar) -> Result<ScalarValue, ViewError> {
    let bad = || ViewError::BadRequest(format!("{v:?} is not a value of {field}"));
    let text = || match v {
        Scalar::Text(s) => s.clone(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) => f.to_string(),
    };
    Ok(match data_type(field) {
        DataType::Utf8 => ScalarValue::Utf8(Some(text())),
        DataType::Int32 => ScalarValue::Int32(Some(text().trim().parse().map_err(|_| bad())?)),
        DataType::Int64 => ScalarValue::Int64(Some(text().trim().parse().map_err(|_| bad())?)),
        DataType::Float64 => ScalarValue::Float64(Some(text().trim().parse().map_err(|_| bad())?)),
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            time_param(text().trim().parse().map_err(|_| bad())?)
        }
        _ => return Err(bad()),
    })
}

/// `(f IN ($1, $2) OR f IS NULL)`, or with `negate` `(f NOT IN (...) OR f IS NULL)` /
/// `(... AND f IS NOT NULL)`.
fn in_list(field: Field, vals: &[Option<Scalar>], negate: bool) -> Result<Sql, ViewError> {
    if vals.len() > MAX_VALUES {
        return Err(ViewError::BadRequest(format!(
            "at most {MAX_VALUES} values of {field} may be selected"
        )));
    }
    let expr = field.sql();
    let with_null = vals.iter().any(Option::is_none);
    let present: Vec<&Scalar> = vals.iter().flatten().collect();
    let mut s = Sql::new("(");
    if present.is_empty() {
        s.push(&format!(
            "{expr} IS {}NULL",
            if negate { "NOT " } else { "" }
        ));
    } else {
        s.push(&format!("{expr} {}IN (", if negate { "NOT " } else { "" }));
        for (i, v) in present.iter().enumerate() {
            if i > 0 {
                s.push(", ");
            }
            s.param(value_param(field, v)?);
        }
        s.push(")");
        match (negate, with_null) {
            (false, true) => s.push(&format!(" OR {expr} IS NULL")),
            (true, false) => s.push(&format!(" OR {expr} IS NULL")),
            (true, true) => s.push(&format!(" AND {expr} IS NOT NULL")),
            (false, false) => &mut s,
        };
    }
    s.push(")");
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_become_typed_parameters_never_text() {
        let sel = Selection::from_json(
            r#"{"values":{"dst_port":["53",80],"src_ip":["' OR 1=1 --",null]},"time":[0,10]}"#,
        )
        .unwrap();
        let p = sel.predicate().unwrap();
        assert!(!p.text.contains("OR 1=1"), "{}", p.text);
        assert_eq!(p.params.len(), 5);
        assert!(p.params.contains(&ScalarValue::Int32(Some(53))));
        assert!(
            p.params
                .contains(&ScalarValue::Utf8(Some("' OR 1=1 --".into())))
        );
        assert!(p.text.contains("\"src_ip\" IS NULL"));
    }

    #[test]
    fn bad_selections_are_refused() {
        for bad in [
            r#"{"values":{"nope":["x"]}}"#,
            r#"{"values":{"dst_port":["http"]}}"#,
            r#"{"ranges":{"src_ip":[1,2]}}"#,
            r#"{"ranges":{"bytes":[5,1]}}"#,
            r#"{"sql":"1=1"}"#,
        ] {
            let r = Selection::from_json(bad).and_then(|s| s.predicate());
            assert!(r.is_err(), "{bad}");
        }
        assert_eq!(
            Selection::from_json("").unwrap().predicate().unwrap().text,
            "TRUE"
        );
    }
}
