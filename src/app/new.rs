//! `schemabench new`: what a crate needs to run its own design questions
//! with `cargo bench` (docs/cargo-bench.md).

use super::{Error, Exit};
use std::path::{Path, PathBuf};

/// The bench target: all of it is schemabench's entry point.
const BENCH: &str = "\
//! `cargo bench --bench schemabench [-- FILTER...] [--list] [--quick]
//! [--save-baseline NAME] [--baseline NAME]`: runs the design questions in
//! scenarios/ (schemabench::bench).

fn main() {
    schemabench::bench::main()
}
";
const SCENARIO: &str = include_str!("template/scenario.toml");
const WORKLOAD: &str = include_str!("template/workload.toml");

/// The files `new` writes, relative to the crate's root, and their text.
pub fn files() -> [(&'static str, &'static str); 3] {
    [
        ("benches/schemabench.rs", BENCH),
        ("scenarios/first_question.toml", SCENARIO),
        ("workloads/app.toml", WORKLOAD),
    ]
}

/// The lines a crate adds to its Cargo.toml.
pub fn cargo_lines() -> String {
    let version: Vec<&str> = env!("CARGO_PKG_VERSION").split('.').take(2).collect();
    format!(
        "[dev-dependencies]\nschemabench = \"{}\"\n\n[[bench]]\nname = \"schemabench\"\nharness = false\n",
        version.join(".")
    )
}

pub(super) fn new_command(dir: &Path) -> Result<Exit, Error> {
    for (relative, text) in files() {
        let path = dir.join(relative);
        if path.exists() {
            println!("kept   {} (it exists)", path.display());
            continue;
        }
        write_new(&path, text)?;
        println!("wrote  {}", path.display());
    }
    let manifest = dir.join("Cargo.toml");
    let has_it = std::fs::read_to_string(&manifest).is_ok_and(|t| t.contains("schemabench"));
    if has_it {
        println!(
            "\n{} already mentions schemabench; it needs these lines:",
            manifest.display()
        );
    } else {
        println!("\nAdd these lines to {}:", manifest.display());
    }
    println!("\n{}", cargo_lines());
    println!("Then `cargo bench` runs scenarios/; `cargo bench -- --list` lists them.");
    Ok(Exit::Success)
}

/// Writes a file that must not exist yet (`create_new`: a file made between
/// the check and the write is not overwritten either).
pub(super) fn write_new(path: &Path, text: &str) -> Result<(), Error> {
    let failed = |source| Error::WriteReport {
        path: PathBuf::from(path),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(failed)?;
    }
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(failed)?;
    file.write_all(text.as_bytes()).map_err(failed)
}
