//! Vectors from files, so users bring their own embeddings: NumPy `.npy`
//! (float32, 2-D, C order) and the TEXMEX / ann-benchmarks layouts `.fvecs`
//! (float32) and `.ivecs` (int32; ground-truth neighbour lists), where each
//! vector is its dimension as a little-endian int32 followed by its values.

use super::VectorSet;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}`: {problem}", path.display())]
    Format { path: PathBuf, problem: String },
}

/// Reads a `.npy` or `.fvecs` file of float32 vectors.
pub fn read_vectors(path: &Path) -> Result<VectorSet, FileError> {
    let bytes = read(path)?;
    let bad = |problem: String| FileError::Format {
        path: path.to_path_buf(),
        problem,
    };
    match extension(path).as_str() {
        "npy" => parse_npy(&bytes).map_err(bad),
        "fvecs" => parse_vecs(&bytes, f32::from_le_bytes)
            .map(|(dim, data)| VectorSet { dim, data })
            .map_err(bad),
        other => Err(bad(format!(
            "vectors are read from `.npy` (float32, 2-D) or `.fvecs` files, not `.{other}`"
        ))),
    }
}

/// Reads an `.ivecs` file (lists of int32, e.g. true neighbour ids).
pub fn read_ivecs(path: &Path) -> Result<Vec<Vec<i32>>, FileError> {
    let bytes = read(path)?;
    let (dim, ids) = parse_vecs(&bytes, i32::from_le_bytes).map_err(|problem| FileError::Format {
        path: path.to_path_buf(),
        problem,
    })?;
    Ok(ids.chunks(dim).map(<[i32]>::to_vec).collect())
}

fn read(path: &Path) -> Result<Vec<u8>, FileError> {
    std::fs::read(path).map_err(|source| FileError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// `dim, values...` records, all of one dimension: the dimension and the
/// values, row after row.
fn parse_vecs<T>(bytes: &[u8], value: impl Fn([u8; 4]) -> T) -> Result<(usize, Vec<T>), String> {
    let word = |at: usize| -> [u8; 4] { bytes[at..at + 4].try_into().expect("four bytes") };
    if bytes.len() < 4 {
        return Err("empty: expected records of a little-endian int32 dimension and that many values".into());
    }
    let dim = i32::from_le_bytes(word(0));
    if dim <= 0 || dim > 65_536 {
        return Err(format!("the first record's dimension is {dim}; expected 1 to 65536"));
    }
    let dim = dim as usize;
    let record = 4 * (dim + 1);
    if !bytes.len().is_multiple_of(record) {
        return Err(format!(
            "{} bytes is not a whole number of {dim}-dimensional records ({record} bytes each)",
            bytes.len()
        ));
    }
    let mut data = Vec::with_capacity(bytes.len() / record * dim);
    for (n, at) in (0..bytes.len()).step_by(record).enumerate() {
        let d = i32::from_le_bytes(word(at));
        if d as usize != dim {
            return Err(format!("record {n} has dimension {d}; the first has {dim}"));
        }
        data.extend((0..dim).map(|i| value(word(at + 4 + 4 * i))));
    }
    Ok((dim, data))
}

/// NumPy's format: magic, version, a header dict, then the array.
fn parse_npy(bytes: &[u8]) -> Result<VectorSet, String> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err("not a NumPy .npy file (no \\x93NUMPY magic)".into());
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (u32::from_le_bytes(bytes[8..12].try_into().expect("4")) as usize, 12),
        v => return Err(format!("NumPy format version {v} is not supported (1, 2 and 3 are)")),
    };
    let header = bytes
        .get(start..start + header_len)
        .and_then(|h| std::str::from_utf8(h).ok())
        .ok_or("the header is cut short or not text")?;
    let field = |key: &str| -> Option<&str> {
        let at = header.find(&format!("'{key}'"))? + key.len() + 2;
        Some(header[at..].trim_start().strip_prefix(':')?.trim_start())
    };
    let descr = field("descr").ok_or("the header has no 'descr'")?;
    if !(descr.starts_with("'<f4'") || descr.starts_with("'float32'")) {
        let shown: String = descr.chars().take_while(|&c| c != ',').collect();
        return Err(format!(
            "the array's type is {shown}; expected float32 ('<f4'): convert with `a.astype('<f4')`"
        ));
    }
    if field("fortran_order").is_some_and(|f| f.starts_with("True")) {
        return Err("the array is in Fortran order; save it C-ordered (`np.ascontiguousarray(a)`)".into());
    }
    let shape = field("shape").ok_or("the header has no 'shape'")?;
    let inner = shape
        .strip_prefix('(')
        .and_then(|s| s.split_once(')'))
        .map(|(s, _)| s)
        .ok_or("the shape is not a tuple")?;
    let dims: Vec<usize> = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| format!("the shape ({inner}) is not whole numbers"))
        })
        .collect::<Result<_, _>>()?;
    let [rows, dim] = dims[..] else {
        return Err(format!("the array has shape ({inner}); expected 2-D (rows, dimension)"));
    };
    if dim == 0 {
        return Err("the array's dimension is 0".into());
    }
    let body = &bytes[start + header_len..];
    if body.len() != rows * dim * 4 {
        return Err(format!(
            "the data is {} bytes; a {rows} x {dim} float32 array is {}",
            body.len(),
            rows * dim * 4
        ));
    }
    Ok(VectorSet {
        dim,
        data: body
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().expect("4")))
            .collect(),
    })
}
