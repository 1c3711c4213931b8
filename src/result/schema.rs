//! The JSON Schema of `result.json`, generated from the types that write it
//! (schemars, JSON Schema 2020-12, describing what is serialised).
//! `docs/result.schema.json` is this text; `schemabench schema` prints it;
//! tests/result_schema.rs checks the committed file is current and that
//! real results validate against it.

use super::RunResult;

/// The schema, pretty-printed and newline-terminated.
pub fn json_schema() -> String {
    let generator = schemars::generate::SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator();
    let mut schema = generator.into_root_schema_for::<RunResult>();
    schema.insert(
        "$id".into(),
        format!("urn:schemabench:result:v{}", super::SCHEMA_VERSION).into(),
    );
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serialises");
    text.push('\n');
    text
}
