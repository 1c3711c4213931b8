//! The generator names and their signatures, as documented and as
//! suggested in errors.

/// Every generator name with its signature, as documented and suggested.
pub const SIGNATURES: &[(&str, &str)] = &[
    ("seq", "seq, seq(start) or seq(start, step)"),
    ("uniform", "uniform(lo, hi) — whole numbers, both ends included"),
    ("float", "float(lo, hi)"),
    ("decimal", "decimal(lo, hi, places)"),
    ("normal", "normal(mean, std_dev)"),
    ("zipf", "zipf(lo, hi, exponent) — lo is the most frequent value"),
    ("choice", "choice(label: weight, ...)"),
    ("text", "text(min_len, max_len)"),
    ("name", "name() or name(key)"),
    ("email", "email() or email(key)"),
    (
        "timestamp",
        "timestamp(from, to), e.g. timestamp(2023-01-01, 2025-01-01) or timestamp(2024-01-01, 2024-01-01 + days * 86400)",
    ),
    ("ref", "ref(table.column) — a key of a seq column"),
    ("nullable", "nullable(null_rate, generator)"),
    ("uuid", "uuid() — random (v4), or uuid(7) — time-ordered (v7)"),
    ("json", "json(key: generator, ...) — a JSON object"),
    ("bytes", "bytes(min_len, max_len) — random bytes"),
    ("interval", "interval(min_seconds, max_seconds)"),
    ("inet", "inet() — an IPv4 address, or inet(6) — IPv6"),
    ("array", "array(generator, min_len, max_len)"),
    (
        "vector",
        "vector(dim, clusters, spread) — a Gaussian mixture; spread relative to the distance between centres",
    ),
    (
        "unit_vector",
        "unit_vector(dim, clusters, spread) — vector(...) scaled to length 1",
    ),
    (
        "vector_file",
        "vector_file(\"file.npy\") — float32 vectors from .npy or .fvecs: row i for row i; a random row for parameters",
    ),
    (
        "series",
        "series(n) — the series of a row (1..=n, rows time-major); any series as a parameter",
    ),
    (
        "series_time",
        "series_time(from: 2024-01-01, every: seconds, series: n, jitter: seconds, out_of_order: share, late: share, late_by: seconds)",
    ),
    (
        "series_value",
        "series_value(series: n, start: x, walk: step_sd, amplitude: a, period: points, noise: sd)",
    ),
];
