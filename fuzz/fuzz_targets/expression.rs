//! Any text as a generator expression: a parsed expression, or an error
//! whose span lies inside the text on character boundaries (the caret
//! under the source is drawn from it).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match schemabench::expr::parse(text) {
        Ok(expr) => {
            let _ = expr.describe(text);
        }
        Err(e) => assert!(text.get(e.span.clone()).is_some(), "span {:?} outside {text:?}", e.span),
    }
});
