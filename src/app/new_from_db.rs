//! `schemabench new --from-url URL --table NAME`: a workload and a scenario
//! made from one table of an existing PostgreSQL database — its columns
//! (types, NOT NULL, the primary key), its row estimate and its indexes.
//! The workload's schema is the table with its primary key only, each
//! column gets a generator for its type, and the operations read by the
//! key, by the leading column of each index and insert a row; the scenario
//! compares the keys alone with the table's current indexes. Nothing of
//! the database's data is read or copied, and nothing is written to it.

use super::{Error, Exit};
use crate::pgwire::{ConnInfo, Wire};
use std::fmt::Write;
use std::path::Path;

/// One column as the catalogue describes it.
#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    /// `format_type`: `character varying(40)`, `numeric(10,2)`.
    pub sql_type: String,
    /// `pg_type.typname`: `varchar`, `numeric`, `_int4` for arrays.
    pub type_name: String,
    pub not_null: bool,
    pub identity: bool,
    /// In the primary key, or the single column of a unique index.
    pub unique: bool,
}

/// A secondary index: its definition and leading column.
#[derive(Debug, Clone)]
pub struct Index {
    pub definition: String,
    pub leading: String,
}

/// What the files are made from.
#[derive(Debug, Clone)]
pub struct TableShape {
    pub table: String,
    pub columns: Vec<Column>,
    pub primary_key: Vec<String>,
    pub indexes: Vec<Index>,
    pub rows: u64,
}

fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn quote_ident(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
    {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('"', "\"\""))
    }
}

/// Reads the table's shape from the catalogue.
pub fn read_shape(url: &str, table: &str) -> Result<TableShape, Error> {
    let info = ConnInfo::parse(url).map_err(|e| {
        Error::Usage(format!(
            "--from-url {}: not a usable connection string: {e}",
            crate::provision::url::redact(url)
        ))
    })?;
    let failed = |what: &str, e: crate::pgwire::WireError| {
        Error::Usage(format!("{what} on {}: {e}", crate::provision::url::redact(url)))
    };
    let mut wire = Wire::connect(&info).map_err(|e| failed("cannot connect", e))?;
    let rel = format!("{}::regclass", quote_literal(table));
    let exists = wire
        .simple_query(&format!("SELECT to_regclass({})", quote_literal(table)))
        .map_err(|e| failed("cannot read the catalogue", e))?;
    if exists.first().and_then(|r| r.first()).is_none_or(|v| v.is_none()) {
        return Err(Error::Usage(format!(
            "--table {table}: no such table on {} (give schema.table when it is not on the search path)",
            crate::provision::url::redact(url)
        )));
    }
    let query = |wire: &mut Wire, sql: &str| {
        wire.simple_query(sql)
            .map_err(|e| failed("cannot read the catalogue", e))
    };
    let text = |row: &[Option<String>], i: usize| row.get(i).cloned().flatten().unwrap_or_default();
    let primary_key: Vec<String> = query(
        &mut wire,
        &format!(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
             WHERE i.indrelid = {rel} AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)"
        ),
    )?
    .iter()
    .map(|r| text(r, 0))
    .collect();
    let indexes_rows = query(
        &mut wire,
        &format!(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid), i.indisprimary, i.indisunique, i.indnatts,
                    (SELECT attname FROM pg_attribute WHERE attrelid = i.indrelid AND attnum = i.indkey[0])
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = {rel} ORDER BY c.relname"
        ),
    )?;
    let mut unique_columns: Vec<String> = primary_key.iter().filter(|_| primary_key.len() == 1).cloned().collect();
    let mut indexes = Vec::new();
    for r in &indexes_rows {
        let (primary, is_unique, natts) = (text(r, 2) == "t", text(r, 3) == "t", text(r, 4));
        if is_unique && natts == "1" {
            unique_columns.push(text(r, 5));
        }
        if !primary {
            indexes.push(Index {
                definition: text(r, 1),
                leading: text(r, 5),
            });
        }
    }
    let columns = query(
        &mut wire,
        &format!(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), t.typname, a.attnotnull, a.attidentity <> ''
             FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
             WHERE a.attrelid = {rel} AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"
        ),
    )?
    .iter()
    .map(|r| Column {
        name: text(r, 0),
        sql_type: text(r, 1),
        type_name: text(r, 2),
        not_null: text(r, 3) == "t",
        identity: text(r, 4) == "t",
        unique: unique_columns.contains(&text(r, 0)),
    })
    .collect();
    let rows = query(
        &mut wire,
        &format!("SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = {rel}"),
    )?
    .first()
    .and_then(|r| r.first().cloned().flatten())
    .and_then(|v| v.parse::<u64>().ok())
    .unwrap_or(0);
    Ok(TableShape {
        table: table.to_string(),
        columns,
        primary_key,
        indexes,
        rows,
    })
}

/// The number in a type's modifier: 40 of `character varying(40)`, the
/// scale 2 of `numeric(10,2)`.
fn modifier(sql_type: &str, nth: usize) -> Option<u32> {
    let inside = sql_type.split_once('(')?.1.split_once(')')?.0;
    inside.split(',').nth(nth)?.trim().parse().ok()
}

/// A generator for a column, or why there is none.
pub fn generator(c: &Column, rows_param: &str) -> Result<String, String> {
    let lower = c.name.to_ascii_lowercase();
    let base = match c.type_name.as_str() {
        "int2" | "int4" | "int8" if c.unique || c.identity => "seq".to_string(),
        "int2" => "uniform(0, 1000)".into(),
        "int4" | "int8" if lower.ends_with("_id") => "uniform(1, 1000)".into(),
        "int4" | "int8" => format!("uniform(0, {rows_param})"),
        "numeric" => format!("decimal(0, 1000, {})", modifier(&c.sql_type, 1).unwrap_or(2)),
        "float4" | "float8" => "normal(100, 20)".into(),
        "text" | "varchar" | "bpchar" | "citext" => {
            let n = modifier(&c.sql_type, 0);
            if lower.contains("email") || c.unique {
                "email()".into()
            } else if lower.contains("name") && n.is_none_or(|n| n >= 30) {
                "name()".into()
            } else {
                let hi = n.map_or(40, |n| n.min(40));
                let lo = if c.type_name == "bpchar" { hi } else { hi.min(5) };
                format!("text({lo}, {hi})")
            }
        }
        "timestamp" | "timestamptz" | "date" => "timestamp(2020-01-01, 2025-01-01)".into(),
        "uuid" => "uuid()".into(),
        "json" | "jsonb" => "json(kind: choice(a: 3, b: 1), n: uniform(1, 100))".into(),
        "bytea" => "bytes(8, 64)".into(),
        "inet" => "inet()".into(),
        "interval" => "interval(0, 86400)".into(),
        other => {
            return Err(format!(
                "column `{}` has type {} ({other}), which no generator makes yet; supported: integers, numeric, \
                 floats, text/varchar/char, timestamps and dates, uuid, json/jsonb, bytea, inet, interval",
                c.name, c.sql_type
            ));
        }
    };
    Ok(if c.not_null || c.unique {
        base
    } else {
        format!("nullable(0.1, {base})")
    })
}

/// The name used for files, params and the scenario: the table's name
/// without its schema, lower case.
pub fn short_name(table: &str) -> String {
    let bare = table.rsplit('.').next().unwrap_or(table).trim_matches('"');
    bare.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// The workload file.
pub fn workload_toml(s: &TableShape) -> Result<String, Error> {
    let name = short_name(&s.table);
    let rows = if s.rows == 0 { 100_000 } else { s.rows.min(10_000_000) };
    let problems: Vec<String> = s.columns.iter().filter_map(|c| generator(c, &name).err()).collect();
    if !problems.is_empty() {
        return Err(Error::Usage(format!("--table {}: {}", s.table, problems.join("; "))));
    }
    let mut w = String::new();
    let _ = writeln!(
        w,
        "# Made by `schemabench new --from-url ... --table {}` from the table's catalogue entry: its columns,\n\
         # primary key and row estimate. The generators are guesses from each column's type and name; make\n\
         # them look like your data (docs/scenario-format.md lists them).",
        s.table
    );
    let _ = writeln!(w, "name = \"{name}\"");
    let _ = writeln!(
        w,
        "description = \"The table {} as it is defined on the source server.\"\n",
        s.table
    );
    let _ = writeln!(w, "[params]\n{name} = {rows}\n");
    let mut defs: Vec<String> = s
        .columns
        .iter()
        .map(|c| {
            let mut d = format!("       {} {}", quote_ident(&c.name), c.sql_type);
            if c.identity {
                d.push_str(" GENERATED BY DEFAULT AS IDENTITY");
            }
            if c.not_null {
                d.push_str(" NOT NULL");
            }
            d
        })
        .collect();
    if !s.primary_key.is_empty() {
        let cols: Vec<String> = s.primary_key.iter().map(|c| quote_ident(c)).collect();
        defs.push(format!("       PRIMARY KEY ({})", cols.join(", ")));
    }
    let table = quote_ident(&name);
    let _ = writeln!(
        w,
        "[schema]\npostgres = [\n  \"\"\"CREATE TABLE {table} (\n{})\"\"\",\n]\n",
        defs.join(",\n")
    );
    let _ = writeln!(w, "[[table]]\nname = \"{name}\"\nrows = \"{name}\"");
    for c in &s.columns {
        let g = generator(c, &name).unwrap_or_default();
        let _ = writeln!(w, "columns.{} = \"{}\"", toml_key(&c.name), g);
    }
    // Ordered by the key, so every design returns the same rows in the
    // same order (the answer check compares them).
    let key: Vec<String> = s.primary_key.iter().map(|c| quote_ident(c)).collect();
    let order = if key.is_empty() {
        String::new()
    } else {
        format!(" ORDER BY {}", key.join(", "))
    };
    for (op, column) in read_ops(s) {
        let c = s
            .columns
            .iter()
            .find(|c| c.name == column)
            .expect("an op reads a column of the table");
        let generator = generator(
            &Column {
                not_null: true,
                ..c.clone()
            },
            &name,
        )
        .unwrap_or_default();
        let param = as_param(&generator, &format!("uniform(1, {name})"));
        let _ = writeln!(
            w,
            "\n[[op]]\nname = \"{op}\"\ndescription = \"Rows of {} by {column}.\"\nsql = \"SELECT * FROM {table} WHERE {} = $1{order} LIMIT 20\"\nparams = [\"{}\"]",
            s.table,
            quote_ident(&column),
            param.replace('"', "\\\"")
        );
    }
    let inserted: Vec<&Column> = s.columns.iter().filter(|c| !c.identity).collect();
    if !inserted.is_empty() {
        let names: Vec<String> = inserted.iter().map(|c| quote_ident(&c.name)).collect();
        let places: Vec<String> = (1..=inserted.len()).map(|i| format!("${i}")).collect();
        let params: Vec<String> = inserted
            .iter()
            .map(|c| {
                // A unique column's new values must not repeat loaded or
                // earlier ones: numbers far past the loaded range, long
                // random text (a collision is vanishingly unlikely).
                let g = match (c.unique, c.type_name.as_str()) {
                    (true, "int2" | "int4" | "int8") => format!("uniform({name} + 1, 2000000000)"),
                    (true, "text" | "varchar" | "bpchar" | "citext") => {
                        let hi = modifier(&c.sql_type, 0).map_or(40, |n| n.min(40));
                        format!("text({hi}, {hi})")
                    }
                    _ => as_param(&generator(c, &name).unwrap_or_default(), &format!("uniform(1, {name})")),
                };
                format!("\"{}\"", g.replace('"', "\\\""))
            })
            .collect();
        let _ = writeln!(
            w,
            "\n[[op]]\nname = \"insert\"\ndescription = \"A new row.\"\nsql = \"INSERT INTO {table} ({}) VALUES ({})\"\nparams = [{}]",
            names.join(", "),
            places.join(", "),
            params.join(", ")
        );
    }
    Ok(w)
}

/// A column's generator as an operation's parameter: generators that
/// use the row number (`seq`, `email()`, `name()`) take `key` instead.
fn as_param(generator: &str, key: &str) -> String {
    match generator {
        "seq" => key.to_string(),
        "email()" => format!("email({key})"),
        "name()" => format!("name({key})"),
        other => other.to_string(),
    }
}

fn toml_key(name: &str) -> String {
    if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\\\""))
    }
}

/// The read operations: by the primary key's first column, then by the
/// leading column of each index, each column once.
fn read_ops(s: &TableShape) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let columns = s
        .primary_key
        .first()
        .into_iter()
        .chain(s.indexes.iter().map(|i| &i.leading));
    for c in columns {
        if !c.is_empty() && !out.iter().any(|(_, x)| x == c) && s.columns.iter().any(|x| &x.name == c) {
            out.push((format!("by_{}", short_name(c)), c.clone()));
        }
    }
    out
}

/// The scenario file: keys only against the table's current indexes.
pub fn scenario_toml(s: &TableShape) -> String {
    let name = short_name(&s.table);
    let ops = read_ops(s);
    let mut sc = String::new();
    let _ = writeln!(
        sc,
        "# Made by `schemabench new --from-url ... --table {}`: the table's keys alone against its current\n\
         # indexes, under reads by each indexed column and inserts. Change the question, the mix and the\n\
         # variants to the design you are deciding; `schemabench validate` checks the file.",
        s.table
    );
    let _ = writeln!(sc, "name = \"{name}_indexes\"");
    let _ = writeln!(
        sc,
        "question = \"Do the current indexes of {} pay for themselves: how much faster are its reads, and what do inserts pay?\"",
        s.table
    );
    let _ = writeln!(
        sc,
        "workload = \"../workloads/{name}.toml\"\nbackends = [\"postgres\"]\n"
    );
    let _ = writeln!(
        sc,
        "[load]\nclients = 2\nwarmup = \"1s\"\nduration = \"3s\"\nrounds = 5\n"
    );
    let _ = writeln!(sc, "[mix]");
    let share = 90 / ops.len().max(1);
    for (op, _) in &ops {
        let _ = writeln!(sc, "{op} = {share}");
    }
    let _ = writeln!(sc, "insert = 10\n");
    let _ = writeln!(
        sc,
        "[[variant]]\nname = \"keys_only\"\ndescription = \"The primary key alone.\"\n"
    );
    let _ = writeln!(
        sc,
        "[[variant]]\nname = \"current_indexes\"\ndescription = \"The indexes the table has today.\""
    );
    let setup: Vec<String> = s
        .indexes
        .iter()
        .map(|i| {
            // The definition names the source table; the workload's is the bare name.
            let def = i
                .definition
                .replace(&format!(" ON {} ", s.table), &format!(" ON {} ", quote_ident(&name)));
            format!("  \"{}\",", def.replace('\\', "\\\\").replace('"', "\\\""))
        })
        .collect();
    let _ = writeln!(sc, "setup = [\n{}\n]\n", setup.join("\n"));
    let goal = ops.last().map(|(op, _)| op.clone()).unwrap_or_else(|| "insert".into());
    let _ = writeln!(
        sc,
        "[verdict]\nbaseline = \"keys_only\"\ngoal = {{ op = \"{goal}\", metric = \"p99\" }}\nguards = [{{ op = \"insert\", metric = \"p50\", max_regression = \"50%\" }}]\n"
    );
    let _ = writeln!(sc, "[quick.params]\n{name} = {}", s.rows.clamp(1000, 10_000));
    sc
}

/// Writes both files under `dir` (never overwriting) and checks them.
pub(super) fn new_from_url(dir: &Path, url: &str, table: &str) -> Result<Exit, Error> {
    let shape = read_shape(url, table)?;
    let name = short_name(table);
    let workload = workload_toml(&shape)?;
    let scenario = scenario_toml(&shape);
    let files = [
        (dir.join(format!("workloads/{name}.toml")), workload),
        (dir.join(format!("scenarios/{name}.toml")), scenario),
    ];
    for (path, _) in &files {
        if path.exists() {
            return Err(Error::Usage(format!(
                "{} exists; move it away or pick another --dir (new never overwrites a file)",
                path.display()
            )));
        }
    }
    // The files must load before any is written: a file that does not is
    // a bug here, not the user's to find.
    let trial = tempfile::tempdir().map_err(|source| Error::Output {
        path: std::env::temp_dir(),
        source,
    })?;
    for (path, text) in &files {
        let relative = path.strip_prefix(dir).unwrap_or(path);
        super::new::write_new(&trial.path().join(relative), text)?;
    }
    crate::scenario::load_any(&trial.path().join(format!("scenarios/{name}.toml")))?;
    for (path, text) in &files {
        super::new::write_new(path, text)?;
        println!("wrote  {}", path.display());
    }
    let scenario = &files[1].0;
    println!(
        "\n{} columns, {} indexes, about {} rows. Try it: schemabench run {} --quick",
        shape.columns.len(),
        shape.indexes.len(),
        shape.rows,
        scenario.display()
    );
    Ok(Exit::Success)
}
