//! Converting schemabench values to and from PostgreSQL's binary formats,
//! chosen by the column or parameter type the server reports, so generated
//! data loads into `bigint`, `numeric(10,2)`, `timestamp` or `text` columns
//! alike without extra crates.

use crate::datagen::{Value, write_timestamp};
use postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use std::error::Error;

type BoxError = Box<dyn Error + Sync + Send>;

/// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01).
const PG_EPOCH_OFFSET_SECS: i64 = 946_684_800;

/// A value bound as a parameter or COPY field.
#[derive(Debug)]
pub struct Param<'a>(pub &'a Value);

fn type_error(v: &Value, ty: &Type) -> BoxError {
    format!("cannot send {v:?} as PostgreSQL type {ty}").into()
}

impl ToSql for Param<'_> {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, BoxError> {
        use bytes::BufMut;
        let v = self.0;
        match (v, ty) {
            (Value::Null, _) => return Ok(IsNull::Yes),
            (Value::Int(i), &Type::INT8) => out.put_i64(*i),
            (Value::Int(i), &Type::INT4) => out.put_i32(i32::try_from(*i)?),
            (Value::Int(i), &Type::INT2) => out.put_i16(i16::try_from(*i)?),
            (Value::Int(i), &Type::FLOAT8) => out.put_f64(*i as f64),
            (Value::Int(i), &Type::FLOAT4) => out.put_f32(*i as f32),
            (Value::Int(i), &Type::NUMERIC) => put_numeric(out, &i.to_string()),
            (Value::Int(i), &Type::BOOL) => out.put_u8((*i != 0) as u8),
            (Value::Float(f), &Type::FLOAT8) => out.put_f64(*f),
            (Value::Float(f), &Type::FLOAT4) => out.put_f32(*f as f32),
            (Value::Float(f), &Type::NUMERIC) => put_numeric(out, &format!("{f}")),
            (Value::Decimal { .. }, &Type::NUMERIC) => put_numeric(out, &v.to_string()),
            (Value::Decimal { units, scale }, &Type::FLOAT8) => out.put_f64(Value::decimal_as_f64(*units, *scale)),
            (Value::Timestamp(s), &Type::TIMESTAMP | &Type::TIMESTAMPTZ) => {
                out.put_i64((s - PG_EPOCH_OFFSET_SECS) * 1_000_000)
            }
            (Value::Timestamp(s), &Type::DATE) => out.put_i32(((s - PG_EPOCH_OFFSET_SECS).div_euclid(86_400)) as i32),
            (Value::Text(t), _) if is_text(ty) => out.put_slice(t.as_bytes()),
            (Value::Timestamp(s), _) if is_text(ty) => {
                let mut t = String::with_capacity(19);
                write_timestamp(&mut t, *s);
                out.put_slice(t.as_bytes());
            }
            (_, _) if is_text(ty) => out.put_slice(v.to_string().as_bytes()),
            _ => return Err(type_error(v, ty)),
        }
        Ok(IsNull::No)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn is_text(ty: &Type) -> bool {
    matches!(
        *ty,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN
    )
}

/// Writes a decimal string ("-123.45") in NUMERIC's binary format: digit
/// count, weight (in base-10000 digits), sign, display scale, digits.
fn put_numeric(out: &mut bytes::BytesMut, text: &str) {
    use bytes::BufMut;
    let (negative, text) = match text.strip_prefix('-') {
        Some(t) => (true, t),
        None => (false, text),
    };
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let int = int.trim_start_matches('0');
    let dscale = frac.len() as u16;
    let mut int_padded = "0".repeat((4 - int.len() % 4) % 4);
    int_padded.push_str(int);
    let mut frac_padded = frac.to_string();
    frac_padded.push_str(&"0".repeat((4 - frac.len() % 4) % 4));
    let group = |s: &str| -> Vec<i16> {
        s.as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap().parse().unwrap_or(0))
            .collect()
    };
    let mut digits = group(&int_padded);
    let mut weight = digits.len() as i16 - 1;
    digits.extend(group(&frac_padded));
    while digits.first() == Some(&0) {
        digits.remove(0);
        weight -= 1;
    }
    while digits.last() == Some(&0) {
        digits.pop();
    }
    if digits.is_empty() {
        weight = 0;
    }
    out.put_i16(digits.len() as i16);
    out.put_i16(weight);
    out.put_u16(if negative && !digits.is_empty() { 0x4000 } else { 0 });
    out.put_u16(dscale);
    for d in digits {
        out.put_i16(d);
    }
}

/// Decodes NUMERIC's binary format into a decimal string.
fn numeric_text(raw: &[u8]) -> Result<String, BoxError> {
    let be16 = |i: usize| -> Result<i16, BoxError> {
        raw.get(i..i + 2)
            .map(|b| i16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "short numeric".into())
    };
    let (n, weight, sign, dscale) = (be16(0)? as usize, be16(2)? as i32, be16(4)? as u16, be16(6)? as usize);
    if sign == 0xC000 {
        return Ok("NaN".into());
    }
    let digits: Vec<i16> = (0..n).map(|i| be16(8 + 2 * i)).collect::<Result<_, _>>()?;
    let mut int = String::new();
    for w in 0..=weight.max(-1) {
        let d = digits.get(w as usize).copied().unwrap_or(0);
        if int.is_empty() {
            if d != 0 {
                int.push_str(&d.to_string());
            }
        } else {
            int.push_str(&format!("{d:04}"));
        }
    }
    if int.is_empty() {
        int.push('0');
    }
    let mut frac = String::new();
    let mut pos = weight + 1; // index of the first fractional digit group
    while frac.len() < dscale {
        let d = if pos < 0 {
            0
        } else {
            digits.get(pos as usize).copied().unwrap_or(0)
        };
        frac.push_str(&format!("{d:04}"));
        pos += 1;
    }
    frac.truncate(dscale);
    let sign = if sign == 0x4000 { "-" } else { "" };
    Ok(if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    })
}

/// A column value read back as a [`Value`] for answer comparison. NUMERIC
/// becomes a `Decimal` (exact), timestamps whole seconds since the epoch.
pub struct Out(pub Value);

impl<'a> FromSql<'a> for Out {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let be = |n: usize| -> Result<[u8; 8], BoxError> {
            let mut b = [0u8; 8];
            let src = raw.get(..n).ok_or("short value")?;
            b[8 - n..].copy_from_slice(src);
            Ok(b)
        };
        Ok(Out(match *ty {
            Type::INT8 => Value::Int(i64::from_be_bytes(be(8)?)),
            Type::INT4 => Value::Int(i32::from_be_bytes(raw.try_into()?) as i64),
            Type::INT2 => Value::Int(i16::from_be_bytes(raw.try_into()?) as i64),
            Type::OID => Value::Int(u32::from_be_bytes(raw.try_into()?) as i64),
            Type::BOOL => Value::Int(raw.first().copied().unwrap_or(0) as i64),
            Type::FLOAT8 => Value::Float(f64::from_be_bytes(be(8)?)),
            Type::FLOAT4 => Value::Float(f32::from_be_bytes(raw.try_into()?) as f64),
            Type::NUMERIC => {
                let text = numeric_text(raw)?;
                let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
                match format!("{int}{frac}").parse::<i64>() {
                    Ok(units) => Value::Decimal {
                        units,
                        scale: frac.len() as u8,
                    },
                    Err(_) => Value::Text(text),
                }
            }
            Type::TIMESTAMP | Type::TIMESTAMPTZ => {
                Value::Timestamp(i64::from_be_bytes(be(8)?).div_euclid(1_000_000) + PG_EPOCH_OFFSET_SECS)
            }
            Type::DATE => Value::Timestamp(i32::from_be_bytes(raw.try_into()?) as i64 * 86_400 + PG_EPOCH_OFFSET_SECS),
            _ => Value::Text(String::from_utf8_lossy(raw).into_owned()),
        }))
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(Out(Value::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// Reads a column without decoding it (the timed path only touches values).
pub struct Touch(pub usize);

impl<'a> FromSql<'a> for Touch {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(Touch(raw.len()))
    }
    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(Touch(0))
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(text: &str) -> String {
        let mut b = bytes::BytesMut::new();
        put_numeric(&mut b, text);
        numeric_text(&b).unwrap()
    }

    #[test]
    fn numerics_survive_the_binary_format() {
        for (input, expected) in [
            ("123.45", "123.45"),
            ("-0.05", "-0.05"),
            ("0", "0"),
            ("10000", "10000"),
            ("12345678.9", "12345678.9"),
            ("0.00", "0.00"),
            ("500", "500"),
            ("99999.0001", "99999.0001"),
        ] {
            assert_eq!(roundtrip(input), expected, "{input}");
        }
    }

    #[test]
    fn decimals_are_sent_as_numeric_and_read_back_exactly() {
        let v = Value::Decimal { units: 12345, scale: 2 };
        let mut b = bytes::BytesMut::new();
        Param(&v).to_sql(&Type::NUMERIC, &mut b).unwrap();
        assert_eq!(Out::from_sql(&Type::NUMERIC, &b).unwrap().0, v);
        let t = Value::Timestamp(1_735_734_600);
        let mut b = bytes::BytesMut::new();
        Param(&t).to_sql(&Type::TIMESTAMP, &mut b).unwrap();
        assert_eq!(Out::from_sql(&Type::TIMESTAMP, &b).unwrap().0, t);
        assert!(Param(&Value::Text("x".into())).to_sql(&Type::INT8, &mut b).is_err());
    }
}
