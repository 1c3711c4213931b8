//! `cargo bench [-- FILTER...] [--list] [--quick] [--save-baseline NAME]
//! [--baseline NAME]`: the shop's design questions in scenarios/.

fn main() {
    schemabench::bench::main()
}
