use super::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn mixture_set(m: &Mixture, n: usize, seed: u64) -> VectorSet {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut set = VectorSet::new(m.dim);
    for _ in 0..n {
        set.push(&m.sample(&mut rng));
    }
    set
}

/// Every distance to every row, sorted: the answer without any cleverness.
fn naive(base: &VectorSet, q: &[f32], k: usize, d: Distance, ok: impl Fn(usize) -> bool) -> Vec<Neighbour> {
    let mut all: Vec<Neighbour> = (0..base.len())
        .filter(|&r| ok(r))
        .map(|r| Neighbour {
            row: r as u32,
            distance: d.between(q, base.row(r)),
        })
        .collect();
    all.sort_by(|a, b| a.distance.total_cmp(&b.distance).then(a.row.cmp(&b.row)));
    all.truncate(k);
    all
}

#[test]
fn a_mixture_is_deterministic_clustered_and_optionally_unit_length() {
    let m = Mixture::new(32, 5, 0.1, false);
    assert_eq!(mixture_set(&m, 50, 7), mixture_set(&m, 50, 7));
    assert_ne!(mixture_set(&m, 50, 7), mixture_set(&m, 50, 8));
    // Tight clusters: a point's nearest other point is far closer than the
    // typical distance between two points.
    let set = mixture_set(&m, 200, 1);
    let d = |a: usize, b: usize| Distance::L2.between(set.row(a), set.row(b));
    let typical = (1..200).map(|j| d(0, j)).sum::<f32>() / 199.0;
    let nearest = (1..200).map(|j| d(0, j)).fold(f32::INFINITY, f32::min);
    assert!(nearest < typical / 3.0, "nearest {nearest}, typical {typical}");
    let unit = mixture_set(&Mixture::new(32, 5, 0.1, true), 20, 1);
    for i in 0..unit.len() {
        let len = distance::dot(unit.row(i), unit.row(i)).sqrt();
        assert!((len - 1.0).abs() < 1e-5, "{len}");
    }
}

#[test]
fn exact_neighbours_match_sorting_every_distance() {
    let m = Mixture::new(37, 4, 0.3, false); // 37: the 16-lane loops have a tail
    let base = mixture_set(&m, 500, 1);
    let queries = mixture_set(&m, 21, 2); // not a whole number of blocks
    for d in [Distance::L2, Distance::InnerProduct, Distance::Cosine] {
        let got = exact_neighbours(&base, &queries, 10, d, None, 3);
        for (q, list) in got.iter().enumerate() {
            let want = naive(&base, queries.row(q), 10, d, |_| true);
            let rows = |l: &[Neighbour]| l.iter().map(|n| n.row).collect::<Vec<_>>();
            assert_eq!(rows(list), rows(&want), "{d:?} query {q}");
            for (a, b) in list.iter().zip(&want) {
                assert!(
                    (a.distance - b.distance).abs() <= 1e-4 * b.distance.abs().max(1.0),
                    "{d:?}"
                );
            }
        }
    }
    // A filter, as `WHERE category = $2` applies: odd rows for odd queries.
    let allowed = |q: usize, r: usize| q % 2 == r % 2;
    let got = exact_neighbours(&base, &queries, 5, Distance::L2, Some(&allowed), 2);
    for (q, list) in got.iter().enumerate() {
        assert!(list.iter().all(|n| n.row as usize % 2 == q % 2));
        let want = naive(&base, queries.row(q), 5, Distance::L2, |r| r % 2 == q % 2);
        assert_eq!(
            list.iter().map(|n| n.row).collect::<Vec<_>>(),
            want.iter().map(|n| n.row).collect::<Vec<_>>()
        );
    }
}

#[test]
fn recall_counts_ties_with_the_kth_neighbour_and_misses_what_is_absent() {
    let truth: Vec<Neighbour> = [1.0, 2.0, 3.0]
        .iter()
        .enumerate()
        .map(|(i, &distance)| Neighbour {
            row: i as u32,
            distance,
        })
        .collect();
    assert_eq!(recall_at_k(&truth, &[1.0, 2.0, 3.0], 3), 1.0);
    // Another row at the k-th distance (a tie) is as good as the true one.
    assert_eq!(recall_at_k(&truth, &[1.0, 3.0, 3.0], 3), 1.0);
    assert_eq!(recall_at_k(&truth, &[1.0, 2.0, 3.5], 3), 2.0 / 3.0);
    assert_eq!(recall_at_k(&truth, &[1.0], 3), 1.0 / 3.0);
}

fn npy(descr: &str, shape: &str, data: &[f32]) -> Vec<u8> {
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend((header.len() as u16).to_le_bytes());
    b.extend(header.as_bytes());
    b.extend(data.iter().flat_map(|x| x.to_le_bytes()));
    b
}

fn vecs(rows: &[Vec<f32>]) -> Vec<u8> {
    rows.iter()
        .flat_map(|r| {
            (r.len() as i32)
                .to_le_bytes()
                .into_iter()
                .chain(r.iter().flat_map(|x| x.to_le_bytes()))
        })
        .collect()
}

#[test]
fn npy_and_fvecs_files_read_as_the_same_vectors_and_bad_files_say_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let rows = vec![vec![1.0, 2.0, 3.0], vec![-4.0, 5.5, 0.25]];
    let flat: Vec<f32> = rows.concat();
    let p = dir.path().join("a.npy");
    std::fs::write(&p, npy("<f4", "(2, 3)", &flat)).unwrap();
    let from_npy = read_vectors(&p).unwrap();
    assert_eq!((from_npy.dim, from_npy.len()), (3, 2));
    let f = dir.path().join("a.fvecs");
    std::fs::write(&f, vecs(&rows)).unwrap();
    assert_eq!(read_vectors(&f).unwrap(), from_npy);
    let i = dir.path().join("gt.ivecs");
    std::fs::write(
        &i,
        vecs(&[vec![0.0, 1.0]])
            .chunks(4)
            .enumerate()
            .flat_map(|(n, w)| {
                if n == 0 {
                    w.to_vec()
                } else {
                    (f32::from_le_bytes(w.try_into().unwrap()) as i32)
                        .to_le_bytes()
                        .to_vec()
                }
            })
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    assert_eq!(read_ivecs(&i).unwrap(), vec![vec![0, 1]]);

    let cases: [(&str, Vec<u8>, &str); 5] = [
        ("f8.npy", npy("<f8", "(2, 3)", &flat), "expected float32"),
        ("3d.npy", npy("<f4", "(1, 2, 3)", &flat), "expected 2-D"),
        ("short.npy", npy("<f4", "(3, 3)", &flat), "a 3 x 3 float32 array is 36"),
        (
            "cut.fvecs",
            vecs(&rows)[..20].to_vec(),
            "not a whole number of 3-dimensional records",
        ),
        ("a.csv", b"1,2,3".to_vec(), "`.npy` (float32, 2-D) or `.fvecs`"),
    ];
    for (name, bytes, expect) in cases {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let e = read_vectors(&p).unwrap_err().to_string();
        assert!(e.contains(name) && e.contains(expect), "{name}: {e}");
    }
}
