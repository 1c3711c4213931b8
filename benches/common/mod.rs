//! Cargo's bench conventions for benches with their own `main`: `--list`
//! prints the bench's name, and positional filters skip it unless one
//! matches (so `cargo bench -- quickstart` does not run unrelated benches).

/// Side-by-side loads against a plain COPY (the load benches).
#[allow(dead_code)]
pub mod copy_pair;

/// Returns whether to run `name`; handles `--list`.
pub fn should_run(name: &str) -> bool {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        println!("{name}: bench");
        return false;
    }
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()))
}
