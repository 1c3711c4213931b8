//! sqlite-vec: vector search functions (`vec_distance_l2`,
//! `vec_distance_cosine`, the `vec0` virtual table, ...) on every SQLite
//! connection the process opens, from the extension the `sqlite-vec` crate
//! compiles from its bundled C source (cargo feature `sqlite-vec`, on by
//! default). Vectors are stored and bound as JSON text (`[1.0, 2.0]`),
//! which the extension reads.

/// Registers the extension for all later connections (once per process).
pub fn register() {
    #[cfg(feature = "sqlite-vec")]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            // SAFETY: `sqlite3_vec_init` is the extension's entry point with
            // the signature SQLite's auto-extension mechanism calls; the
            // pointer is only converted to the type the API declares.
            unsafe {
                type Init = unsafe extern "C" fn(
                    *mut rusqlite::ffi::sqlite3,
                    *mut *mut std::os::raw::c_char,
                    *const rusqlite::ffi::sqlite3_api_routines,
                ) -> std::os::raw::c_int;
                let init: Init = std::mem::transmute(sqlite_vec::sqlite3_vec_init as *const ());
                rusqlite::ffi::sqlite3_auto_extension(Some(init));
            }
        });
    }
}

/// The extension's version (`vec_version()`), if it is compiled in.
pub fn version() -> Option<String> {
    register();
    let conn = rusqlite::Connection::open_in_memory().ok()?;
    conn.query_row("SELECT vec_version()", [], |r| r.get(0)).ok()
}

#[cfg(all(test, feature = "sqlite-vec"))]
mod tests {
    #[test]
    fn vector_distances_work_on_json_vectors() {
        super::register();
        assert!(super::version().is_some_and(|v| v.starts_with('v')));
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let d: f64 = conn
            .query_row("SELECT vec_distance_l2('[0, 0, 0]', '[3, 4, 0]')", [], |r| r.get(0))
            .unwrap();
        assert!((d - 5.0).abs() < 1e-6, "{d}");
    }
}
