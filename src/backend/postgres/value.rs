//! Converting schemabench values to and from PostgreSQL, chosen by the type
//! the server reports for a parameter or column. Types with a codec in a
//! well-kept crate travel in binary (`postgres-protocol`'s and
//! `postgres-types`' codecs; `pgvector` for `vector`, `halfvec` and
//! `sparsevec`); everything else travels as text both ways — NUMERIC (exact:
//! NaN, ±Infinity and every digit of scale survive), intervals, enums,
//! ranges, domains over such types and any extension type. The same
//! choice serves parameters, results and COPY.

use crate::datagen::{Value, write_pg_timestamp};
use bytes::{BufMut, BytesMut};
use postgres_protocol::IsNull;
use postgres_protocol::types as pg;
use postgres_types::{FromSql, Kind, ToSql, Type};
use std::error::Error;

type BoxError = Box<dyn Error + Sync + Send>;

/// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01).
const PG_EPOCH_OFFSET_US: i64 = 946_684_800_000_000;

/// The extension types with a binary codec (pgvector).
fn vector_kind(ty: &Type) -> Option<&'static str> {
    match ty.name() {
        "vector" => Some("vector"),
        "halfvec" => Some("halfvec"),
        "sparsevec" => Some("sparsevec"),
        _ => None,
    }
}

/// Whether values of `ty` travel in binary (a codec exists) or as text.
pub fn is_binary(ty: &Type) -> bool {
    match ty.kind() {
        Kind::Domain(base) => is_binary(base),
        Kind::Array(elem) => is_binary(elem) && !matches!(elem.kind(), Kind::Array(_)),
        Kind::Enum(_) | Kind::Pseudo | Kind::Range(_) | Kind::Multirange(_) | Kind::Composite(_) => false,
        _ => {
            matches!(
                *ty,
                Type::BOOL
                    | Type::INT2
                    | Type::INT4
                    | Type::INT8
                    | Type::OID
                    | Type::FLOAT4
                    | Type::FLOAT8
                    | Type::TEXT
                    | Type::VARCHAR
                    | Type::BPCHAR
                    | Type::NAME
                    | Type::BYTEA
                    | Type::UUID
                    | Type::JSON
                    | Type::JSONB
                    | Type::TIMESTAMP
                    | Type::TIMESTAMPTZ
                    | Type::DATE
                    | Type::INET
            ) || vector_kind(ty).is_some()
        }
    }
}

/// The format code for `ty`: 1 binary, 0 text.
pub fn format(ty: &Type) -> i16 {
    is_binary(ty) as i16
}

/// The type values are encoded for: a domain's base type.
fn base(ty: &Type) -> &Type {
    match ty.kind() {
        Kind::Domain(b) => base(b),
        _ => ty,
    }
}

fn type_error(v: &Value, ty: &Type) -> BoxError {
    format!("cannot send {} as PostgreSQL type {ty}", v.kind_name()).into()
}

/// Writes `v` for a parameter or COPY field of type `ty`, in the format
/// [`format`] chooses for it.
pub fn encode(v: &Value, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
    if matches!(v, Value::Null) {
        return Ok(IsNull::Yes);
    }
    if !is_binary(ty) {
        write_text_for(v, ty, out);
        return Ok(IsNull::No);
    }
    encode_binary(v, base(ty), out)?;
    Ok(IsNull::No)
}

fn encode_binary(v: &Value, ty: &Type, out: &mut BytesMut) -> Result<(), BoxError> {
    if let Some(kind) = vector_kind(ty) {
        let Value::Vector(xs) = v else {
            return Err(type_error(v, ty));
        };
        match kind {
            "vector" => pgvector::Vector::from(xs.clone()).to_sql(ty, out)?,
            "halfvec" => pgvector::HalfVector::from_f32_slice(xs).to_sql(ty, out)?,
            _ => pgvector::SparseVector::from_dense(xs).to_sql(ty, out)?,
        };
        return Ok(());
    }
    if let Kind::Array(elem) = ty.kind() {
        let Value::Array(items) = v else {
            return Err(type_error(v, ty));
        };
        let dims = (!items.is_empty()).then_some(pg::ArrayDimension {
            len: i32::try_from(items.len())?,
            lower_bound: 1,
        });
        return pg::array_to_sql(
            dims,
            elem.oid(),
            items.iter(),
            |item, buf| match item {
                Value::Null => Ok(IsNull::Yes),
                item => encode_binary(item, base(elem), buf).map(|()| IsNull::No),
            },
            out,
        );
    }
    match (v, ty) {
        (Value::Int(i), &Type::INT8) => pg::int8_to_sql(*i, out),
        (Value::Int(i), &Type::INT4) => pg::int4_to_sql(i32::try_from(*i)?, out),
        (Value::Int(i), &Type::INT2) => pg::int2_to_sql(i16::try_from(*i)?, out),
        (Value::Int(i), &Type::OID) => pg::oid_to_sql(u32::try_from(*i)?, out),
        (Value::Int(i), &Type::FLOAT8) => pg::float8_to_sql(*i as f64, out),
        (Value::Int(i), &Type::FLOAT4) => pg::float4_to_sql(*i as f32, out),
        (Value::Int(i), &Type::BOOL) => pg::bool_to_sql(*i != 0, out),
        (Value::Float(f), &Type::FLOAT8) => pg::float8_to_sql(*f, out),
        (Value::Float(f), &Type::FLOAT4) => pg::float4_to_sql(*f as f32, out),
        (Value::Decimal { units, scale }, &Type::FLOAT8) => {
            pg::float8_to_sql(Value::decimal_as_f64(*units, *scale), out)
        }
        (Value::Timestamp(us), &Type::TIMESTAMP | &Type::TIMESTAMPTZ) => {
            pg::timestamp_to_sql(us - PG_EPOCH_OFFSET_US, out)
        }
        (Value::Timestamp(us), &Type::DATE) => pg::date_to_sql(
            i32::try_from((us - PG_EPOCH_OFFSET_US).div_euclid(86_400_000_000))?,
            out,
        ),
        (Value::Uuid(u), &Type::UUID) => pg::uuid_to_sql(*u, out),
        (Value::Text(t), &Type::UUID) => pg::uuid_to_sql(*uuid::Uuid::parse_str(t)?.as_bytes(), out),
        (Value::Bytes(b), &Type::BYTEA) => pg::bytea_to_sql(b, out),
        (Value::Json(j), &Type::JSON | &Type::JSONB) => {
            postgres_types::Json(j).to_sql(ty, out)?;
        }
        (Value::Text(t), &Type::JSON | &Type::JSONB) => {
            let j: serde_json::Value = serde_json::from_str(t)?;
            postgres_types::Json(&j).to_sql(ty, out)?;
        }
        (Value::Inet(ip), &Type::INET) => pg::inet_to_sql(*ip, if ip.is_ipv4() { 32 } else { 128 }, out),
        (Value::Text(t), &Type::INET) => pg::inet_to_sql(t.parse()?, if t.contains(':') { 128 } else { 32 }, out),
        (Value::Text(t), &Type::BOOL) => pg::bool_to_sql(matches!(t.as_str(), "t" | "true" | "1" | "yes" | "on"), out),
        (_, &Type::TEXT | &Type::VARCHAR | &Type::BPCHAR | &Type::NAME) => write_text(v, out),
        _ => return Err(type_error(v, ty)),
    }
    Ok(())
}

/// Writes `v` in the text input syntax of column type `ty` (sparse vectors
/// have one of their own: `{2:1.5,5:2}/5`).
pub fn write_text_for(v: &Value, ty: &Type, out: &mut BytesMut) {
    match (v, base(ty).name()) {
        (Value::Vector(xs), "sparsevec") => {
            let entries: Vec<String> = xs
                .iter()
                .enumerate()
                .filter(|(_, x)| **x != 0.0)
                .map(|(i, x)| format!("{}:{x}", i + 1))
                .collect();
            out.put_slice(format!("{{{}}}/{}", entries.join(","), xs.len()).as_bytes());
        }
        _ => write_text(v, out),
    }
}

/// Writes `v` in PostgreSQL's text input syntax.
pub fn write_text(v: &Value, out: &mut BytesMut) {
    use std::fmt::Write as _;
    struct W<'a>(&'a mut BytesMut);
    impl std::fmt::Write for W<'_> {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0.put_slice(s.as_bytes());
            Ok(())
        }
    }
    let mut w = W(out);
    let _ = match v {
        Value::Null => Ok(()),
        Value::Text(t) => w.write_str(t),
        Value::Float(f) if f.is_nan() => w.write_str("NaN"),
        Value::Float(f) if f.is_infinite() => w.write_str(if *f > 0.0 { "Infinity" } else { "-Infinity" }),
        Value::Timestamp(us) => {
            let mut s = String::with_capacity(32);
            write_pg_timestamp(&mut s, *us);
            w.write_str(&s)
        }
        Value::Json(j) => w.write_str(&j.to_string()),
        Value::Bytes(b) => {
            let _ = w.write_str("\\x");
            b.iter().try_for_each(|x| write!(w, "{x:02x}"))
        }
        Value::Array(items) => {
            let _ = w.write_char('{');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    let _ = w.write_char(',');
                }
                if matches!(item, Value::Null) {
                    let _ = w.write_str("NULL");
                    continue;
                }
                let mut inner = BytesMut::new();
                write_text(item, &mut inner);
                let text = String::from_utf8_lossy(&inner);
                let _ = w.write_char('"');
                let _ = w.write_str(&text.replace('\\', "\\\\").replace('"', "\\\""));
                let _ = w.write_char('"');
            }
            w.write_char('}')
        }
        Value::Vector(xs) => {
            let _ = w.write_char('[');
            for (i, x) in xs.iter().enumerate() {
                let _ = if i > 0 { write!(w, ",{x}") } else { write!(w, "{x}") };
            }
            w.write_char(']')
        }
        other => write!(w, "{other}"),
    };
}

/// A column value read back as a [`Value`] for answer comparison: binary
/// columns through their codec, text columns as text (NUMERIC as an exact
/// decimal when it fits, its text otherwise).
pub fn decode(raw: Option<&[u8]>, ty: &Type, format: i16) -> Value {
    let Some(raw) = raw else {
        return Value::Null;
    };
    if format == 0 {
        let text = String::from_utf8_lossy(raw).into_owned();
        if *base(ty) == Type::NUMERIC {
            return Value::parse_decimal(&text).unwrap_or(Value::Text(text));
        }
        return Value::Text(text);
    }
    decode_binary(raw, base(ty)).unwrap_or_else(|e| Value::Text(format!("<{e}>")))
}

fn decode_binary(raw: &[u8], ty: &Type) -> Result<Value, BoxError> {
    if vector_kind(ty).is_some() {
        return Ok(Value::Vector(match ty.name() {
            "vector" => pgvector::Vector::from_sql(ty, raw)?.to_vec(),
            "halfvec" => pgvector::HalfVector::from_sql(ty, raw)?
                .to_vec()
                .into_iter()
                .map(f32::from)
                .collect(),
            _ => pgvector::SparseVector::from_sql(ty, raw)?.to_vec(),
        }));
    }
    if let Kind::Array(elem) = ty.kind() {
        let array = pg::array_from_sql(raw)?;
        let mut items = Vec::new();
        let mut values = array.values();
        use fallible_iterator::FallibleIterator;
        while let Some(v) = values.next()? {
            items.push(match v {
                None => Value::Null,
                Some(raw) => decode_binary(raw, base(elem))?,
            });
        }
        return Ok(Value::Array(items));
    }
    Ok(match *ty {
        Type::INT8 => Value::Int(pg::int8_from_sql(raw)?),
        Type::INT4 => Value::Int(pg::int4_from_sql(raw)? as i64),
        Type::INT2 => Value::Int(pg::int2_from_sql(raw)? as i64),
        Type::OID => Value::Int(pg::oid_from_sql(raw)? as i64),
        Type::BOOL => Value::Int(pg::bool_from_sql(raw)? as i64),
        Type::FLOAT8 => Value::Float(pg::float8_from_sql(raw)?),
        Type::FLOAT4 => Value::Float(pg::float4_from_sql(raw)? as f64),
        Type::TIMESTAMP | Type::TIMESTAMPTZ => Value::Timestamp(pg::timestamp_from_sql(raw)? + PG_EPOCH_OFFSET_US),
        Type::DATE => Value::Timestamp(pg::date_from_sql(raw)? as i64 * 86_400_000_000 + PG_EPOCH_OFFSET_US),
        Type::UUID => Value::Uuid(pg::uuid_from_sql(raw)?),
        Type::BYTEA => Value::Bytes(pg::bytea_from_sql(raw).to_vec()),
        Type::JSON | Type::JSONB => Value::Json(postgres_types::Json::<serde_json::Value>::from_sql(ty, raw)?.0),
        Type::INET => Value::Inet(pg::inet_from_sql(raw)?.addr()),
        _ => Value::Text(pg::text_from_sql(raw)?.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(v: &Value, ty: &Type) -> Value {
        let mut b = BytesMut::new();
        encode(v, ty, &mut b).unwrap();
        decode(Some(&b), ty, format(ty))
    }

    #[test]
    fn binary_codecs_round_trip_without_a_server() {
        for (v, ty) in [
            (Value::Int(i64::MIN), Type::INT8),
            (Value::Int(-32768), Type::INT2),
            (Value::Float(f64::NAN), Type::FLOAT8),
            (Value::Timestamp(1_735_734_600_123_456), Type::TIMESTAMPTZ),
            (Value::Uuid([7; 16]), Type::UUID),
            (Value::Bytes(vec![0, 255, 10]), Type::BYTEA),
            (Value::Json(serde_json::json!({"a": [1, 2]})), Type::JSONB),
            (Value::Inet("::1".parse().unwrap()), Type::INET),
            (Value::Array(vec![Value::Int(1), Value::Null]), Type::INT8_ARRAY),
        ] {
            let back = roundtrip(&v, &ty);
            if let Value::Float(f) = v {
                assert!(matches!(back, Value::Float(g) if g.is_nan() == f.is_nan()));
            } else {
                assert_eq!(back, v, "{ty}");
            }
        }
        let mut b = BytesMut::new();
        assert!(encode(&Value::Text("x".into()), &Type::INT8, &mut b).is_err());
    }

    #[test]
    fn numerics_and_unknown_types_travel_as_exact_text() {
        assert_eq!(format(&Type::NUMERIC), 0);
        assert_eq!(format(&Type::INTERVAL), 0);
        for (text, expected) in [
            ("12.340", Value::Decimal { units: 12340, scale: 3 }),
            ("NaN", Value::Text("NaN".into())),
            ("-Infinity", Value::Text("-Infinity".into())),
            (
                "123456789012345678901234567890.5",
                Value::Text("123456789012345678901234567890.5".into()),
            ),
        ] {
            assert_eq!(decode(Some(text.as_bytes()), &Type::NUMERIC, 0), expected);
        }
        let mut b = BytesMut::new();
        encode(&Value::Float(f64::NEG_INFINITY), &Type::NUMERIC, &mut b).unwrap();
        assert_eq!(&b[..], b"-Infinity");
        b.clear();
        encode(
            &Value::Array(vec![Value::Text("a \"b\"".into()), Value::Null]),
            &Type::TEXT_ARRAY,
            &mut b,
        )
        .unwrap();
        let mut t = BytesMut::new();
        write_text(&Value::Array(vec![Value::Text("a \"b\"".into()), Value::Null]), &mut t);
        assert_eq!(&t[..], br#"{"a \"b\"",NULL}"#);
    }
}
