//! Configuration errors that name the file, line and column, the field, the
//! bad value and what is accepted — with a source snippet, like rustc.

use crate::suggest::did_you_mean;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A configuration file's path and text, shared by everything located in it.
#[derive(Debug)]
pub struct Source {
    pub path: PathBuf,
    pub text: String,
}

pub type SourceRef = Arc<Source>;

impl Source {
    /// A source held in memory (e.g. built by code); `path` names it in
    /// errors and anchors relative lookups such as the workload file.
    pub fn from_text(path: &Path, text: String) -> SourceRef {
        Arc::new(Source {
            path: path.to_path_buf(),
            text,
        })
    }

    pub fn read(path: &Path) -> Result<SourceRef, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            path: path.to_path_buf(),
            position: None,
            field: None,
            message: format!("cannot read file: {e}"),
            snippet: None,
        })?;
        Ok(Arc::new(Source {
            path: path.to_path_buf(),
            text,
        }))
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = self.text[line_start..offset].chars().count() + 1;
        (line, column)
    }

    /// An error at `span` of this file.
    pub fn error(
        &self,
        span: Range<usize>,
        field: impl Into<Option<String>>,
        message: impl Into<String>,
    ) -> ConfigError {
        let (line, column) = self.position(span.start);
        ConfigError {
            path: self.path.clone(),
            position: Some((line, column)),
            field: field.into(),
            message: message.into(),
            snippet: Some(self.snippet(span)),
        }
    }

    /// An error about the file as a whole (e.g. a missing required key).
    pub fn file_error(&self, field: impl Into<Option<String>>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            path: self.path.clone(),
            position: None,
            field: field.into(),
            message: message.into(),
            snippet: None,
        }
    }

    fn snippet(&self, span: Range<usize>) -> String {
        let start = span.start.min(self.text.len());
        let line_start = self.text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = self.text[start..].find('\n').map_or(self.text.len(), |i| start + i);
        let line = &self.text[line_start..line_end];
        let (line_no, col) = self.position(start);
        let end = span.end.clamp(start, line_end);
        let width = self.text[start..end].chars().count().max(1);
        let gutter = " ".repeat(line_no.to_string().len());
        format!(
            "{gutter} |\n{line_no} | {line}\n{gutter} | {}{}",
            " ".repeat(col - 1),
            "^".repeat(width)
        )
    }

    /// Offset of a TOML string's content: skips the opening quote(s).
    pub fn string_content_offset(&self, span: &Range<usize>) -> usize {
        let rest = &self.text[span.start.min(self.text.len())..];
        if rest.starts_with("\"\"\"") || rest.starts_with("'''") {
            span.start + 3
        } else if rest.starts_with('"') || rest.starts_with('\'') {
            span.start + 1
        } else {
            span.start
        }
    }
}

/// One problem in a configuration file.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    pub path: PathBuf,
    /// 1-based line and column.
    pub position: Option<(usize, usize)>,
    /// Dotted path of the field, e.g. `load.duration` or `op.recent_orders.sql`.
    pub field: Option<String>,
    pub message: String,
    pub snippet: Option<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some((line, col)) = self.position {
            write!(f, ":{line}:{col}")?;
        }
        f.write_str(": ")?;
        if let Some(field) = &self.field {
            write!(f, "`{field}`: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(snippet) = &self.snippet {
            write!(f, "\n{snippet}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// All problems found in one pass over a file (and the workload it uses).
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        if self.0.len() > 1 {
            write!(f, "\n{} problems found", self.0.len())?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl From<ConfigError> for ConfigErrors {
    fn from(e: ConfigError) -> Self {
        ConfigErrors(vec![e])
    }
}

/// Parses TOML into the raw structs, turning serde/toml errors into located
/// errors with the field path and a "did you mean" for unknown keys.
pub fn parse_toml<T: serde::de::DeserializeOwned>(source: &Source) -> Result<T, ConfigError> {
    let de = match toml::Deserializer::parse(&source.text) {
        Ok(de) => de,
        Err(e) => return Err(from_toml_error(source, None, &e)),
    };
    serde_path_to_error::deserialize(de).map_err(|e| {
        // Spanned<T> shows up as an extra path segment; users never wrote it.
        let mut path = e.path().to_string().replace(".$__serde_spanned_private_value", "");
        // A map key that is itself spanned shows as `?`: name it from the
        // line the error points at (`users = "100"` → `params.users`).
        if path.ends_with(".?")
            && let Some(key) = e.inner().span().and_then(|span| key_at(&source.text, span.start))
        {
            path = format!("{}.{key}", &path[..path.len() - 2]);
        }
        let field = (path != "." && !path.is_empty()).then_some(path);
        from_toml_error(source, field, e.inner())
    })
}

/// The key of the `key = value` line holding byte `offset`, if it is one.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let start = text.get(..offset)?.rfind('\n').map_or(0, |i| i + 1);
    let line = text[start..].lines().next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim().trim_matches('"').trim_matches('\'');
    (!key.is_empty()).then(|| key.to_string())
}

fn from_toml_error(source: &Source, field: Option<String>, e: &toml::de::Error) -> ConfigError {
    let mut message = e.message().trim().to_string();
    if let Some(hint) = unknown_key_hint(&message) {
        message.push_str(&hint);
    }
    match e.span() {
        Some(span) => source.error(span, field, message),
        None => source.file_error(field, message),
    }
}

/// For serde's "unknown field `x`, expected one of `a`, `b`" (and the same for
/// enum variants), suggests the closest accepted word.
fn unknown_key_hint(message: &str) -> Option<String> {
    if !(message.starts_with("unknown field") || message.starts_with("unknown variant")) {
        return None;
    }
    let words: Vec<&str> = message.split('`').skip(1).step_by(2).collect();
    let (bad, accepted) = words.split_first()?;
    did_you_mean(bad, accepted.iter().copied()).map(|s| format!("; did you mean `{s}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_lines_and_character_columns() {
        let s = Source {
            path: "x.toml".into(),
            text: "a = 1\nbé = 'zz'\n".into(),
        };
        assert_eq!(s.position(0), (1, 1));
        assert_eq!(s.position(6), (2, 1));
        assert_eq!(s.position(12), (2, 6));
        let e = s.error(12..16, Some("bé".to_string()), "bad");
        let shown = e.to_string();
        assert!(shown.starts_with("x.toml:2:6: `bé`: bad"), "{shown}");
        assert!(shown.contains("2 | bé = 'zz'"), "{shown}");
        assert!(shown.contains("^^^^"), "{shown}");
    }

    #[test]
    fn unknown_keys_get_a_suggestion() {
        let hint = unknown_key_hint("unknown field `durtion`, expected one of `clients`, `duration`");
        assert_eq!(hint.as_deref(), Some("; did you mean `duration`?"));
        assert_eq!(unknown_key_hint("invalid type: string"), None);
    }
}
