//! Arithmetic evaluation of expressions over scale parameters.

use super::{BinOp, Expr, ExprError, ExprKind};
use crate::suggest::did_you_mean;
use std::collections::BTreeMap;

/// Scale parameters by name (`users = 10_000`), after scenario overrides.
pub type Params = BTreeMap<String, f64>;

/// Evaluates an arithmetic expression whose leaves are numbers and parameter
/// names.
pub fn eval_number(expr: &Expr, params: &Params) -> Result<f64, ExprError> {
    let value = match &expr.kind {
        ExprKind::Number(n) => *n,
        ExprKind::Ident(name) => match params.get(name) {
            Some(v) => *v,
            None => {
                let known: Vec<&str> = params.keys().map(String::as_str).collect();
                let hint = did_you_mean(name, known.iter().copied())
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                let list = if known.is_empty() {
                    "the workload declares no [params]".to_string()
                } else {
                    format!("known parameters: {}", known.join(", "))
                };
                return Err(ExprError::new(
                    expr.span.clone(),
                    format!("unknown parameter `{name}` ({list}){hint}"),
                ));
            }
        },
        // A date counts as its seconds since the epoch (`2024-01-01 + 3600`).
        ExprKind::Timestamp(t) => *t as f64,
        ExprKind::Neg(inner) => -eval_number(inner, params)?,
        ExprKind::Binary(op, lhs, rhs) => {
            let (a, b) = (eval_number(lhs, params)?, eval_number(rhs, params)?);
            match op {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                BinOp::Mul => a * b,
                BinOp::Div => {
                    if b == 0.0 {
                        return Err(ExprError::new(rhs.span.clone(), "division by zero"));
                    }
                    a / b
                }
            }
        }
        ExprKind::Str(_) | ExprKind::Call { .. } => {
            return Err(ExprError::new(
                expr.span.clone(),
                "expected a number or an arithmetic expression over parameters here",
            ));
        }
    };
    if !value.is_finite() {
        return Err(ExprError::new(expr.span.clone(), "value is not finite"));
    }
    Ok(value)
}

/// Evaluates to an integer, rejecting fractional results with a clear message.
pub fn eval_integer(expr: &Expr, params: &Params, src: &str) -> Result<i64, ExprError> {
    let v = eval_number(expr, params)?;
    if v.fract() != 0.0 || v.abs() > 9.0e15 {
        return Err(ExprError::new(
            expr.span.clone(),
            format!(
                "`{}` evaluates to {v}, but a whole number is needed here",
                expr.describe(src)
            ),
        ));
    }
    Ok(v as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::parse;

    fn params() -> Params {
        [("users".to_string(), 1000.0), ("orders".to_string(), 5000.0)].into()
    }

    #[test]
    fn evaluates_arithmetic_over_params() {
        let e = parse("users * 10 + orders / 2 - 1").unwrap();
        assert_eq!(eval_number(&e, &params()).unwrap(), 12499.0);
        let e = parse("-(users - 1)").unwrap();
        assert_eq!(eval_number(&e, &params()).unwrap(), -999.0);
    }

    #[test]
    fn unknown_parameter_suggests_a_close_name() {
        let e = parse("usres * 2").unwrap();
        let err = eval_number(&e, &params()).unwrap_err();
        assert!(err.message.contains("did you mean `users`"), "{err}");
        assert_eq!(err.span, 0..5);
    }

    #[test]
    fn integers_reject_fractions_and_division_by_zero_is_an_error() {
        let src = "users / 3";
        let err = eval_integer(&parse(src).unwrap(), &params(), src).unwrap_err();
        assert!(err.message.contains("whole number"), "{err}");
        assert!(eval_number(&parse("1 / (users - 1000)").unwrap(), &params()).is_err());
    }
}
