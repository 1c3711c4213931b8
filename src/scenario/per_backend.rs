//! `PerBackend<T>`: a value given once for every backend, or per backend:
//! `sql = "..."` or `sql = { sqlite = "...", postgres = "..." }`.

use super::BackendKind;
use serde::Serialize;
use serde::de::value::{SeqAccessDeserializer, StrDeserializer};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct PerBackend<T> {
    /// The value for every backend without a specific one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sqlite: Option<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postgres: Option<T>,
}

impl<T> Default for PerBackend<T> {
    fn default() -> Self {
        Self {
            default: None,
            sqlite: None,
            postgres: None,
        }
    }
}

impl<T> PerBackend<T> {
    pub fn all(value: T) -> Self {
        Self {
            default: Some(value),
            ..Self::default()
        }
    }

    /// The value for `backend`: its own, else the default.
    pub fn get(&self, backend: BackendKind) -> Option<&T> {
        let specific = match backend {
            BackendKind::Sqlite => self.sqlite.as_ref(),
            BackendKind::Postgres => self.postgres.as_ref(),
        };
        specific.or(self.default.as_ref())
    }

    pub fn map<U>(&self, mut f: impl FnMut(&T) -> U) -> PerBackend<U> {
        PerBackend {
            default: self.default.as_ref().map(&mut f),
            sqlite: self.sqlite.as_ref().map(&mut f),
            postgres: self.postgres.as_ref().map(&mut f),
        }
    }

    /// Every value given, with the backend it is specific to (None = default).
    pub fn entries(&self) -> impl Iterator<Item = (Option<BackendKind>, &T)> {
        [
            (None, self.default.as_ref()),
            (Some(BackendKind::Sqlite), self.sqlite.as_ref()),
            (Some(BackendKind::Postgres), self.postgres.as_ref()),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for PerBackend<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(PerBackendVisitor(PhantomData))
    }
}

struct PerBackendVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for PerBackendVisitor<T> {
    type Value = PerBackend<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value for every backend, or a table with `sqlite`, `postgres` and/or `default` keys")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        T::deserialize(StrDeserializer::<E>::new(v)).map(PerBackend::all)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        T::deserialize(SeqAccessDeserializer::new(seq)).map(PerBackend::all)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = PerBackend::default();
        while let Some(key) = map.next_key::<String>()? {
            let slot = match key.as_str() {
                "sqlite" => &mut out.sqlite,
                "postgres" => &mut out.postgres,
                "default" => &mut out.default,
                _ => {
                    return Err(de::Error::unknown_field(&key, &["sqlite", "postgres", "default"]));
                }
            };
            if slot.is_some() {
                return Err(de::Error::duplicate_field("backend"));
            }
            *slot = Some(map.next_value()?);
        }
        Ok(out)
    }
}
