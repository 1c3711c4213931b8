//! Lexer and recursive-descent parser for workload expressions.

use super::{Arg, BinOp, Expr, ExprError, ExprKind, Label};
use std::ops::Range;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Number(f64),
    Ident(String),
    Str(String),
    Timestamp(i64),
    LParen,
    RParen,
    Comma,
    Colon,
    Plus,
    Minus,
    Star,
    Slash,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    span: Range<usize>,
}

/// Parses one expression; the whole input must be consumed.
pub fn parse(src: &str) -> Result<Expr, ExprError> {
    let tokens = lex(src)?;
    let mut parser = Parser {
        tokens,
        pos: 0,
        end: src.len(),
        depth: 0,
    };
    if parser.tokens.is_empty() {
        return Err(ExprError::new(0..src.len(), "empty expression"));
    }
    let expr = parser.expr()?;
    if let Some(t) = parser.peek() {
        return Err(ExprError::new(
            t.span.clone(),
            format!("unexpected `{}` after a complete expression", &src[t.span.clone()]),
        ));
    }
    Ok(expr)
}

fn lex(src: &str) -> Result<Vec<Token>, ExprError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let single = |tok| Token {
            tok,
            span: start..start + 1,
        };
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'(' => {
                out.push(single(Tok::LParen));
                i += 1
            }
            b')' => {
                out.push(single(Tok::RParen));
                i += 1
            }
            b',' => {
                out.push(single(Tok::Comma));
                i += 1
            }
            b':' => {
                out.push(single(Tok::Colon));
                i += 1
            }
            b'+' => {
                out.push(single(Tok::Plus));
                i += 1
            }
            b'-' => {
                out.push(single(Tok::Minus));
                i += 1
            }
            b'*' => {
                out.push(single(Tok::Star));
                i += 1
            }
            b'/' => {
                out.push(single(Tok::Slash));
                i += 1
            }
            b'\'' | b'"' => {
                let quote = c;
                i += 1;
                let body_start = i;
                while i < bytes.len() && bytes[i] != quote {
                    i += 1;
                }
                if i == bytes.len() {
                    return Err(ExprError::new(start..src.len(), "unterminated string"));
                }
                out.push(Token {
                    tok: Tok::Str(src[body_start..i].to_string()),
                    span: start..i + 1,
                });
                i += 1;
            }
            b'0'..=b'9' | b'.' => {
                if let Some((secs, len)) = date_literal(&src[i..]) {
                    out.push(Token {
                        tok: Tok::Timestamp(secs),
                        span: start..start + len,
                    });
                    i += len;
                    continue;
                }
                while i < bytes.len() && (bytes[i].is_ascii_digit() || matches!(bytes[i], b'.' | b'_')) {
                    i += 1;
                }
                // Exponent: 1e6, 2.5E-3
                if i < bytes.len() && matches!(bytes[i], b'e' | b'E') {
                    let mut j = i + 1;
                    if j < bytes.len() && matches!(bytes[j], b'+' | b'-') {
                        j += 1;
                    }
                    if j < bytes.len() && bytes[j].is_ascii_digit() {
                        while j < bytes.len() && bytes[j].is_ascii_digit() {
                            j += 1;
                        }
                        i = j;
                    }
                }
                let text: String = src[start..i].chars().filter(|&c| c != '_').collect();
                let value: f64 = text
                    .parse()
                    .map_err(|_| ExprError::new(start..i, format!("`{}` is not a number", &src[start..i])))?;
                out.push(Token {
                    tok: Tok::Number(value),
                    span: start..i,
                });
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'_' | b'.')) {
                    i += 1;
                }
                out.push(Token {
                    tok: Tok::Ident(src[start..i].to_string()),
                    span: start..i,
                });
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return Err(ExprError::new(
                    start..start + ch.len_utf8(),
                    format!(
                        "unexpected character `{ch}`; expressions use numbers, names, \
                         'strings', dates like 2024-01-01, calls like f(a, b) and + - * /"
                    ),
                ));
            }
        }
    }
    Ok(out)
}

/// Recognises `YYYY-MM-DD` optionally followed by `THH:MM[:SS]` or ` HH:MM[:SS]`.
/// Returns seconds since the epoch and the consumed length.
fn date_literal(s: &str) -> Option<(i64, usize)> {
    let b = s.as_bytes();
    let digits = |r: Range<usize>| r.clone().all(|k| b.get(k).is_some_and(u8::is_ascii_digit));
    if !(digits(0..4) && b.get(4) == Some(&b'-') && digits(5..7) && b.get(7) == Some(&b'-') && digits(8..10)) {
        return None;
    }
    let num = |r: Range<usize>| s[r].parse::<u32>().ok();
    let year = num(0..4)? as i32;
    let month = time::Month::try_from(num(5..7)? as u8).ok()?;
    let day = num(8..10)? as u8;
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    let mut len = 10;
    let mut tod = time::Time::MIDNIGHT;
    if matches!(b.get(10), Some(b'T') | Some(b' ')) && digits(11..13) && b.get(13) == Some(&b':') && digits(14..16) {
        let hour = num(11..13)? as u8;
        let minute = num(14..16)? as u8;
        len = 16;
        let mut second = 0u8;
        if b.get(16) == Some(&b':') && digits(17..19) {
            second = num(17..19)? as u8;
            len = 19;
        }
        tod = time::Time::from_hms(hour, minute, second).ok()?;
    }
    let secs = time::PrimitiveDateTime::new(date, tod).assume_utc().unix_timestamp();
    Some((secs, len))
}

/// Deepest nesting of parentheses, calls and signs an expression may have:
/// far beyond anything a scenario needs, and far below what would overflow
/// the stack of the recursive parser and evaluator.
pub const MAX_DEPTH: usize = 64;

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    end: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn peek_tok(&self) -> Option<&Tok> {
        self.peek().map(|t| &t.tok)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn eof_span(&self) -> Range<usize> {
        self.end..self.end
    }

    fn expr(&mut self) -> Result<Expr, ExprError> {
        let mut lhs = self.term()?;
        while let Some(op) = match self.peek_tok() {
            Some(Tok::Plus) => Some(BinOp::Add),
            Some(Tok::Minus) => Some(BinOp::Sub),
            _ => None,
        } {
            self.pos += 1;
            let rhs = self.term()?;
            lhs = binary(op, lhs, rhs);
        }
        Ok(lhs)
    }

    fn term(&mut self) -> Result<Expr, ExprError> {
        let mut lhs = self.unary()?;
        while let Some(op) = match self.peek_tok() {
            Some(Tok::Star) => Some(BinOp::Mul),
            Some(Tok::Slash) => Some(BinOp::Div),
            _ => None,
        } {
            self.pos += 1;
            let rhs = self.unary()?;
            lhs = binary(op, lhs, rhs);
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Expr, ExprError> {
        if self.depth >= MAX_DEPTH {
            let span = self.peek().map_or_else(|| self.eof_span(), |t| t.span.clone());
            return Err(ExprError::new(
                span,
                format!("expression nested more than {MAX_DEPTH} deep (parentheses, calls and signs)"),
            ));
        }
        self.depth += 1;
        let out = self.unary_inner();
        self.depth -= 1;
        out
    }

    fn unary_inner(&mut self) -> Result<Expr, ExprError> {
        if let Some(Tok::Minus) = self.peek_tok() {
            let start = self.next().map(|t| t.span.start).unwrap_or(0);
            let inner = self.unary()?;
            let span = start..inner.span.end;
            // Fold negative literals so `-5` stays a plain number.
            if let ExprKind::Number(n) = inner.kind {
                return Ok(Expr {
                    kind: ExprKind::Number(-n),
                    span,
                });
            }
            return Ok(Expr {
                kind: ExprKind::Neg(Box::new(inner)),
                span,
            });
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Expr, ExprError> {
        let Some(token) = self.next() else {
            return Err(ExprError::new(
                self.eof_span(),
                "expression ends where a value was expected",
            ));
        };
        let span = token.span.clone();
        let kind = match token.tok {
            Tok::Number(n) => ExprKind::Number(n),
            Tok::Str(s) => ExprKind::Str(s),
            Tok::Timestamp(t) => ExprKind::Timestamp(t),
            Tok::Ident(name) => {
                if let Some(Tok::LParen) = self.peek_tok() {
                    self.pos += 1;
                    let args = self.args()?;
                    let close = self.expect_rparen(&name, &span)?;
                    return Ok(Expr {
                        kind: ExprKind::Call {
                            name,
                            name_span: span.clone(),
                            args,
                        },
                        span: span.start..close.end,
                    });
                }
                ExprKind::Ident(name)
            }
            Tok::LParen => {
                let inner = self.expr()?;
                let close = self.expect_rparen("(", &span)?;
                return Ok(Expr {
                    kind: inner.kind,
                    span: span.start..close.end,
                });
            }
            _ => {
                return Err(ExprError::new(
                    span,
                    "expected a number, a name, a string, a date or a call",
                ));
            }
        };
        Ok(Expr { kind, span })
    }

    fn expect_rparen(&mut self, what: &str, open: &Range<usize>) -> Result<Range<usize>, ExprError> {
        match self.next() {
            Some(Token { tok: Tok::RParen, span }) => Ok(span),
            Some(t) => Err(ExprError::new(
                t.span,
                format!("expected `,` or `)` to continue `{what}(`"),
            )),
            None => Err(ExprError::new(
                open.start..self.end,
                format!("`{what}(` is never closed; add `)`"),
            )),
        }
    }

    fn args(&mut self) -> Result<Vec<Arg>, ExprError> {
        let mut args = Vec::new();
        if let Some(Tok::RParen) = self.peek_tok() {
            return Ok(args);
        }
        loop {
            args.push(self.arg()?);
            match self.peek_tok() {
                Some(Tok::Comma) => self.pos += 1,
                _ => return Ok(args),
            }
        }
    }

    fn arg(&mut self) -> Result<Arg, ExprError> {
        // A label is a name, string or number followed by `:`.
        let label_tok = self.peek().cloned();
        let is_label = matches!(self.tokens.get(self.pos + 1).map(|t| &t.tok), Some(Tok::Colon));
        if let (true, Some(t)) = (is_label, label_tok) {
            let (text, numeric) = match &t.tok {
                Tok::Ident(s) | Tok::Str(s) => (s.clone(), false),
                Tok::Number(n) => (format_number(*n), true),
                _ => {
                    return Err(ExprError::new(
                        t.span,
                        "a label before `:` must be a name, a 'string' or a number",
                    ));
                }
            };
            self.pos += 2;
            let value = self.expr()?;
            return Ok(Arg {
                label: Some(Label {
                    text,
                    numeric,
                    span: t.span,
                }),
                value,
            });
        }
        Ok(Arg {
            label: None,
            value: self.expr()?,
        })
    }
}

fn binary(op: BinOp, lhs: Expr, rhs: Expr) -> Expr {
    let span = lhs.span.start..rhs.span.end;
    Expr {
        kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
        span,
    }
}

/// Formats a number without a trailing `.0` when it is integral.
pub(crate) fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call_name(e: &Expr) -> &str {
        match &e.kind {
            ExprKind::Call { name, .. } => name,
            other => panic!("not a call: {other:?}"),
        }
    }

    #[test]
    fn parses_nested_calls_with_arithmetic() {
        let src = "nullable(0.1, zipf(1, users * 10, 1.07))";
        let e = parse(src).unwrap();
        assert_eq!(call_name(&e), "nullable");
        let ExprKind::Call { args, .. } = &e.kind else {
            unreachable!()
        };
        assert_eq!(args.len(), 2);
        assert_eq!(call_name(&args[1].value), "zipf");
        assert_eq!(e.span, 0..src.len());
    }

    #[test]
    fn parses_labels_and_dates() {
        let e = parse("choice(pending: 1, 'in transit': 3, 7: 2)").unwrap();
        let ExprKind::Call { args, .. } = &e.kind else {
            unreachable!()
        };
        let labels: Vec<_> = args.iter().map(|a| a.label.as_ref().unwrap().text.as_str()).collect();
        assert_eq!(labels, ["pending", "in transit", "7"]);
        assert!(args[2].label.as_ref().unwrap().numeric);

        let e = parse("timestamp(2023-01-01, 2025-01-01T12:30)").unwrap();
        let ExprKind::Call { args, .. } = &e.kind else {
            unreachable!()
        };
        assert_eq!(args[0].value.kind, ExprKind::Timestamp(1_672_531_200));
        assert_eq!(args[1].value.kind, ExprKind::Timestamp(1_735_734_600));
    }

    #[test]
    fn numbers_accept_underscores_exponents_and_negation() {
        assert_eq!(parse("100_000").unwrap().kind, ExprKind::Number(100_000.0));
        assert_eq!(parse("1e6").unwrap().kind, ExprKind::Number(1e6));
        assert_eq!(parse("-5").unwrap().kind, ExprKind::Number(-5.0));
        assert!(matches!(parse("-users").unwrap().kind, ExprKind::Neg(_)));
    }

    #[test]
    fn precedence_is_conventional() {
        let e = parse("1 + 2 * 3").unwrap();
        let ExprKind::Binary(BinOp::Add, _, rhs) = e.kind else {
            panic!("top is not +")
        };
        assert!(matches!(rhs.kind, ExprKind::Binary(BinOp::Mul, _, _)));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
        let e = parse(&deep).unwrap_err();
        assert!(e.to_string().contains("nested more than 64 deep"), "{e}");
        let negs = format!("{}1", "-".repeat(10_000));
        assert!(parse(&negs).is_err());
        let ok = format!("{}1{}", "(".repeat(30), ")".repeat(30));
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn errors_point_at_the_problem() {
        let err = parse("zipf(1, users").unwrap_err();
        assert!(err.message.contains("never closed"), "{err:?}");
        let err = parse("zipf(1, users) 3").unwrap_err();
        assert_eq!(err.span, 15..16);
        let err = parse("uniform(1, #)").unwrap_err();
        assert_eq!(err.span, 11..12);
        assert!(parse("").is_err());
        assert!(parse("'open").is_err());
        let err = parse("f(1,)").unwrap_err();
        assert!(err.message.contains("expected a number"), "{err:?}");
    }
}
