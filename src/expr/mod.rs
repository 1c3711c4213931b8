//! The small expression language of workload files: generator calls such as
//! `zipf(1, users, 1.07)`, row counts such as `users * 10`, dates and labelled
//! arguments (`choice(paid: 6, shipped: 3)`). Parsing keeps byte spans so that
//! errors can point at the exact column inside a TOML string.

mod eval;
mod parse;

pub use eval::{Params, eval_integer, eval_number};
pub use parse::parse;

use std::ops::Range;

/// A parsed expression with the byte span it came from (relative to the
/// expression text, not the file).
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Range<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Number(f64),
    Str(String),
    /// A calendar date or date-time literal such as `2024-01-01` or
    /// `2024-01-01T12:00:00`, as seconds since the Unix epoch (UTC).
    Timestamp(i64),
    /// A bare name: a scale parameter, a generator without arguments (`seq`),
    /// or a dotted reference such as `users.id`.
    Ident(String),
    Call {
        name: String,
        name_span: Range<usize>,
        args: Vec<Arg>,
    },
    Neg(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
}

/// A call argument, optionally labelled (`paid: 6`).
#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    pub label: Option<Label>,
    pub value: Expr,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    pub text: String,
    /// Whether the label was written as a number (`1: 5`), which makes the
    /// generated value an integer rather than text.
    pub numeric: bool,
    pub span: Range<usize>,
}

/// An error inside an expression, with the span it concerns.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ExprError {
    pub message: String,
    pub span: Range<usize>,
}

impl ExprError {
    pub fn new(span: Range<usize>, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            span,
        }
    }
}

impl Expr {
    /// Renders the expression back to text, for messages.
    pub fn describe(&self, source: &str) -> String {
        source.get(self.span.clone()).unwrap_or_default().to_string()
    }
}
