use image::Rgb;

use super::*;
use crate::face::{LEFT_EYE_OUTER, MESH_POINTS, RIGHT_EYE_OUTER};

const SIDE: u32 = 256;

/// The real mesh the training tests use (MediaPipe on the astronaut face, 128 px), moved to the
/// spec's framing of a 256 px image: outer eye corners at (128 -+ 38.4, 107.52).
fn template() -> Mesh {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/training/tests/data/astronaut_landmarks.json"
    );
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let points: Vec<[f32; 2]> = json["points"].as_array().unwrap()[..MESH_POINTS]
        .iter()
        .map(|p| [p[0].as_f64().unwrap() as f32, p[1].as_f64().unwrap() as f32])
        .collect();
    let mesh = Mesh::new(points).unwrap();
    let eyes = [mesh.points()[LEFT_EYE_OUTER], mesh.points()[RIGHT_EYE_OUTER]];
    let framed = Similarity::fit(&eyes, &[[128.0 - 38.4, 107.52], [128.0 + 38.4, 107.52]]).unwrap();
    mesh.transformed(&framed)
}

/// Every point moved by `f`.
fn moved(mesh: &Mesh, f: impl Fn([f32; 2]) -> [f32; 2]) -> Mesh {
    Mesh::new(mesh.points().iter().map(|&p| f(p)).collect()).unwrap()
}

/// Not a similarity: the jaw wider and longer, the mouth lower, more so further down the face.
fn jaw_widened(mesh: &Mesh) -> Mesh {
    let [cx, cy] = mesh.centroid();
    moved(mesh, |[x, y]| {
        let down = ((y - cy + 20.0) / 60.0).clamp(0.0, 1.0);
        [cx + (x - cx) * (1.0 + 0.25 * down), y + 16.0 * down]
    })
}

/// A rotation by `angle` and a scaling about the image centre, then a shift.
fn about_centre(scale: f32, angle: f32, shift: [f32; 2]) -> Similarity {
    let turn = Similarity {
        a: scale * angle.cos(),
        b: scale * angle.sin(),
        tx: 0.0,
        ty: 0.0,
    };
    let centre = SIDE as f32 / 2.0;
    let to_origin = Similarity {
        tx: -centre,
        ty: -centre,
        ..Similarity::IDENTITY
    };
    let back = Similarity {
        tx: centre + shift[0],
        ty: centre + shift[1],
        ..Similarity::IDENTITY
    };
    back.after(&turn.after(&to_origin))
}

/// Smooth colours everywhere (no two neighbours far apart).
fn texture(side: u32) -> RgbImage {
    RgbImage::from_fn(side, side, |x, y| {
        let (x, y) = (x as f32, y as f32);
        Rgb([
            (128.0 + 100.0 * (x / 9.0).sin() * (y / 13.0).cos()) as u8,
            (128.0 + 100.0 * ((x + y) / 17.0).sin()) as u8,
            ((x + 2.0 * y) * 255.0 / (3.0 * side as f32)) as u8,
        ])
    })
}

/// The reference: every output pixel centre mapped by `inverse` into `source`, sampled
/// bilinearly (clamped to the edge), written here independently of the warp's sampler.
fn under_similarity(source: &RgbImage, inverse: &Similarity, side: u32) -> RgbImage {
    let (w, h) = (source.width() as i64, source.height() as i64);
    let at = |x: i64, y: i64, c: usize| source.get_pixel(x.clamp(0, w - 1) as u32, y.clamp(0, h - 1) as u32)[c] as f64;
    RgbImage::from_fn(side, side, |x, y| {
        let [sx, sy] = inverse.apply([x as f32 + 0.5, y as f32 + 0.5]);
        let (u, v) = (sx as f64 - 0.5, sy as f64 - 0.5);
        let (x0, y0) = (u.floor() as i64, v.floor() as i64);
        let (fx, fy) = (u - u.floor(), v - v.floor());
        Rgb([0, 1, 2].map(|c| {
            let top = at(x0, y0, c) * (1.0 - fx) + at(x0 + 1, y0, c) * fx;
            let bottom = at(x0, y0 + 1, c) * (1.0 - fx) + at(x0 + 1, y0 + 1, c) * fx;
            (top * (1.0 - fy) + bottom * fy).round() as u8
        }))
    })
}

/// The largest and the mean channel difference over the pixels `within` picks.
fn differences(a: &RgbImage, b: &RgbImage, within: impl Fn(u32, u32) -> bool) -> (u8, f64) {
    let (mut max, mut total, mut count) = (0u8, 0.0, 0usize);
    for (x, y, p) in a.enumerate_pixels() {
        if within(x, y) {
            for (u, v) in p.0.iter().zip(b.get_pixel(x, y).0) {
                max = max.max(u.abs_diff(v));
                total += u.abs_diff(v) as f64;
                count += 1;
            }
        }
    }
    (max, total / count.max(1) as f64)
}

fn clean(report: &WarpReport) -> bool {
    report.uncovered == 0 && report.overlapped == 0
}

/// A small deterministic generator (splitmix64).
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f32 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 40) as f32 / (1u64 << 24) as f32
    }

    fn between(&mut self, low: f32, high: f32) -> f32 {
        low + (high - low) * self.uniform()
    }
}

#[test]
fn the_template_triangulation_is_delaunay_and_tiles_the_square() {
    let template = template();
    let warp = FaceWarp::new(&template, SIDE);
    let (places, _) = warp.places(&template, &template, &Similarity::IDENTITY, &Similarity::IDENTITY);
    let count = |pick: fn(&Vertex) -> bool| warp.vertices.iter().filter(|v| pick(v)).count();
    assert_eq!(
        count(|v| matches!(v, Vertex::Mesh(_))),
        MESH_POINTS,
        "every mesh point is a vertex"
    );
    let border = count(|v| matches!(v, Vertex::Frame(_)));
    assert_eq!(border, 4 * FRAME_SEGMENTS as usize);
    for ring in 0..RINGS as u8 {
        let kept = warp
            .vertices
            .iter()
            .filter(|v| matches!(v, Vertex::Ring { ring: r, .. } if *r == ring))
            .count();
        assert!(kept >= OVAL / 2, "ring {ring}: {kept} points");
    }
    // A triangulation of n points whose hull holds h of them has 2n - h - 2 triangles.
    assert_eq!(warp.triangle_count(), 2 * warp.vertices.len() - border - 2);
    let mut area = 0.0f64;
    for t in &warp.triangles {
        let [a, b, c] = t.map(|v| places[v as usize].map(f64::from));
        let twice = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
        assert!(twice > 0.0, "{t:?} is not positively oriented");
        area += twice / 2.0;
        // Empty circumcircles (with a little room for rounding).
        let (bx, by, cx, cy) = (b[0] - a[0], b[1] - a[1], c[0] - a[0], c[1] - a[1]);
        let d = 2.0 * (bx * cy - by * cx);
        let ux = (cy * (bx * bx + by * by) - by * (cx * cx + cy * cy)) / d;
        let uy = (bx * (cx * cx + cy * cy) - cx * (bx * bx + by * by)) / d;
        let r = ux.hypot(uy);
        for (i, p) in places.iter().enumerate() {
            let inside = (p[0] as f64 - a[0] - ux).hypot(p[1] as f64 - a[1] - uy) < r - 1e-3;
            assert!(!inside, "vertex {i} inside the circumcircle of {t:?}");
        }
    }
    let [low, high] = frame(SIDE).map(f64::from);
    assert!((area - (high - low).powi(2)).abs() < 1e-2, "area {area}");
}

#[test]
fn spans_cover_every_pixel_centre_of_a_triangulated_square_once() {
    // Points on a half-pixel lattice (so vertices sit on pixel centres and edges run through
    // rows of centres), many cocircular and collinear: the hard cases of both the triangulation
    // and the coverage rule.
    let side = 24;
    for seed in 0..20 {
        let mut rng = Rng(seed);
        let mut delaunay = Delaunay::square(0.0, side as f64);
        for _ in 0..60 {
            let p = [0, 1].map(|_| (rng.between(0.0, 2.0 * side as f32).floor()) / 2.0);
            delaunay.insert(p, 0.0);
        }
        let mut coverage = vec![0u32; (side * side) as usize];
        let mut area = 0i64;
        for t in &delaunay.triangles {
            let corners = t.map(|v| delaunay.points[v].map(|c| (c * SUBPIXEL as f64) as i64));
            let [a, b, c] = corners;
            let twice = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
            assert!(twice > 0, "seed {seed}: {t:?} is not positively oriented");
            area += twice;
            for_each_span(&corners, side, |y, x0, x1| {
                for x in x0..=x1 {
                    coverage[(y * side + x) as usize] += 1;
                }
            });
        }
        assert_eq!(
            area,
            2 * (side as i64 * SUBPIXEL).pow(2),
            "seed {seed}: the triangles tile the square"
        );
        let wrong: Vec<_> = coverage.iter().enumerate().filter(|&(_, &c)| c != 1).collect();
        assert!(
            wrong.is_empty(),
            "seed {seed}: pixels covered other than once: {wrong:?}"
        );
    }
}

#[test]
fn the_same_mesh_on_both_sides_leaves_the_image_as_it_was() {
    let template = template();
    let warp = FaceWarp::new(&template, SIDE);
    let source = texture(SIDE);
    let other = jaw_widened(&template).transformed(&about_centre(1.1, 0.2, [9.0, -6.0]));
    for mesh in [template, other] {
        let (warped, report) = warp.warp_with_report(&source, &mesh, &mesh);
        assert!(clean(&report) && report.fold_blend == 0.0, "{report:?}");
        let (max, _) = differences(&warped, &source, |_, _| true);
        assert!(max <= 1, "largest difference {max}");
    }
}

#[test]
fn a_similarity_between_the_meshes_warps_like_the_similarity_itself() {
    let template = template();
    let warp = FaceWarp::new(&template, SIDE);
    let source = texture(SIDE);
    for transform in [
        about_centre(1.15, 0.25, [10.0, -8.0]),
        about_centre(0.8, -0.1, [-15.0, 12.0]),
    ] {
        let (warped, report) = warp.warp_with_report(&source, &template, &template.transformed(&transform));
        assert!(clean(&report) && report.fold_blend == 0.0, "{report:?}");
        let reference = under_similarity(&source, &transform.inverse().unwrap(), SIDE);
        let (max, mean) = differences(&warped, &reference, |_, _| true);
        assert!(max <= 2 && mean < 0.05, "largest {max}, mean {mean}");
    }
}

#[test]
fn a_dot_at_a_mesh_point_lands_on_the_destination_mesh_point() {
    let template = template();
    let warp = FaceWarp::new(&template, SIDE);
    let destination = jaw_widened(&template).transformed(&about_centre(1.05, 0.1, [4.0, 3.0]));
    let similarity = Similarity::fit(template.points(), destination.points()).unwrap();
    // Nose tip, chin, a mouth corner, forehead top; then the cheek, the outer corner of an eye
    // and the jaw's corners, where the similarity alone would put the dot elsewhere.
    let rigid_misses = [234, 33, 172, 397];
    for i in [1, 152, 61, 10, 234, 33, 172, 397] {
        let at = template.points()[i];
        let source = RgbImage::from_fn(SIDE, SIDE, |x, y| {
            let d = (x as f32 + 0.5 - at[0]).hypot(y as f32 + 0.5 - at[1]);
            Rgb([((2.5 - d).clamp(0.0, 1.0) * 255.0) as u8; 3])
        });
        let warped = warp.warp(&source, &template, &destination);
        let (mut total, mut sx, mut sy) = (0.0f64, 0.0f64, 0.0f64);
        for (x, y, p) in warped.enumerate_pixels() {
            let v = p[0] as f64;
            total += v;
            sx += v * (x as f64 + 0.5);
            sy += v * (y as f64 + 0.5);
        }
        let found = [(sx / total) as f32, (sy / total) as f32];
        let want = destination.points()[i];
        let off = (found[0] - want[0]).hypot(found[1] - want[1]);
        assert!(
            off < 0.75,
            "point {i}: the dot is at {found:?}, its mesh point at {want:?}"
        );
        let rigid = similarity.apply(at);
        if rigid_misses.contains(&i) {
            assert!((rigid[0] - want[0]).hypot(rigid[1] - want[1]) > 4.0, "point {i}");
        }
    }
}

#[test]
fn plausible_meshes_cover_every_pixel_once_and_folds_at_least_once() {
    let template = template();
    let warp = FaceWarp::new(&template, SIDE);
    let source = texture(SIDE);
    let mut rng = Rng(7);
    let mut folds = 0;
    for round in 0..16 {
        // Smooth changes of shape, pose and place; every other round the points jittered too,
        // which folds MediaPipe's thinnest triangles (eyelids, lips) as a found mesh's noise does.
        let jitter = if round % 2 == 0 { 0.0 } else { 0.5 };
        let mut mesh_near = |base: &Mesh| {
            let wide = if rng.uniform() < 0.5 {
                jaw_widened(base)
            } else {
                base.clone()
            };
            let turn = about_centre(
                rng.between(0.85, 1.15),
                rng.between(-0.25, 0.25),
                [rng.between(-15.0, 15.0), rng.between(-15.0, 15.0)],
            );
            let mesh = wide.transformed(&turn);
            let noise: Vec<f32> = (0..2 * MESH_POINTS).map(|_| jitter * rng.between(-1.0, 1.0)).collect();
            Mesh::new(
                mesh.points()
                    .iter()
                    .zip(noise.chunks(2))
                    .map(|(p, n)| [p[0] + n[0], p[1] + n[1]])
                    .collect(),
            )
            .unwrap()
        };
        let source_mesh = mesh_near(&template);
        let destination_mesh = mesh_near(&template);
        let (_, report) = warp.warp_with_report(&source, &source_mesh, &destination_mesh);
        assert_eq!(report.uncovered, 0, "round {round}: {report:?}");
        assert_eq!(report.fold_blend, 0.0, "round {round}: {report:?}");
        if report.folded_area == 0.0 {
            assert_eq!(report.overlapped, 0, "round {round}: {report:?}");
        } else {
            // A fold covers its area twice (and a little more along its edges), nothing else.
            assert!(
                report.overlapped as f32 <= 2.0 * report.folded_area + 40.0,
                "round {round}: {report:?}"
            );
            folds += 1;
        }
        if jitter == 0.0 {
            assert!(clean(&report), "round {round}: {report:?}");
        }
    }
    assert!(folds > 0, "the jitter folds something");
}

#[test]
fn folds_are_kept_up_to_the_tolerance_and_a_face_folded_beyond_it_blends_toward_the_similarity() {
    let template = template();
    let warp = FaceWarp::new(&template, SIDE);
    let source = texture(SIDE);
    // An upper eyelid point dragged below the lower lid: a small fold, kept; the image is covered,
    // and away from the fold it is what it was (nothing else moved).
    let mut dragged = template.points().to_vec();
    let lower = dragged[145];
    dragged[159] = [lower[0], lower[1] + 2.0];
    let (warped, report) = warp.warp_with_report(&source, &template, &Mesh::new(dragged).unwrap());
    assert!(
        report.folded_area > 0.0 && report.fold_blend == 0.0 && report.uncovered == 0,
        "{report:?}"
    );
    assert!(report.overlapped > 0, "{report:?}");
    let eye = template.points()[159];
    let away = |x: u32, y: u32| (x as f32 + 0.5 - eye[0]).hypot(y as f32 + 0.5 - eye[1]) > 12.0;
    let (max, _) = differences(&warped, &source, away);
    assert!(max <= 1, "largest difference away from the fold {max}");

    // The face mirrored (a similarity has no mirror): folded all over, so it blends toward the
    // similarity until the fold is within the tolerance; still covered.
    let [cx, _] = template.centroid();
    let mirrored = moved(&template, |[x, y]| [2.0 * cx - x, y]);
    let (_, report) = warp.warp_with_report(&source, &template, &mirrored);
    let tolerance = FOLD_TOLERANCE * mirrored.eye_distance().powi(2);
    assert!(
        report.fold_blend > 0.0 && report.folded_area <= tolerance && report.uncovered == 0,
        "{report:?}"
    );

    // Wild meshes: every point in one place, points anywhere, a mesh far off the image, nose tip
    // and chin swapped. No panic, every pixel covered.
    let mut rng = Rng(3);
    let scattered = (0..MESH_POINTS)
        .map(|_| [rng.between(-50.0, 300.0), rng.between(-50.0, 300.0)])
        .collect();
    let mut swapped = template.points().to_vec();
    swapped.swap(1, 152);
    let wild = [
        Mesh::new(vec![[100.0, 100.0]; MESH_POINTS]).unwrap(),
        Mesh::new(scattered).unwrap(),
        template.transformed(&about_centre(40.0, 2.0, [1e5, -1e5])),
        Mesh::new(swapped).unwrap(),
    ];
    for mesh in &wild {
        for (from, to) in [(mesh, &template), (&template, mesh), (mesh, mesh)] {
            let (warped, report) = warp.warp_with_report(&source, from, to);
            assert_eq!(warped.dimensions(), (SIDE, SIDE));
            assert_eq!(report.uncovered, 0, "{report:?}");
        }
    }
}

#[test]
fn the_border_and_the_outer_ring_move_with_the_global_similarity() {
    let template = template();
    let warp = FaceWarp::new(&template, SIDE);
    let source = texture(SIDE);
    let destination = match std::env::var("DBG").as_deref() {
        Ok("t") => template.clone(),
        _ => jaw_widened(&template).transformed(&about_centre(1.05, 0.1, [6.0, -4.0])),
    };
    let (similarity, inverse) = global_similarity(&template, &destination);
    let (outputs, sources) = warp.places(&template, &destination, &similarity, &inverse);
    let from_template = Similarity::fit(template.points(), destination.points()).unwrap();
    let own = own_rings(
        &destination,
        &warp.oval_offsets,
        &from_template,
        &Similarity::IDENTITY,
        SIDE,
    );
    let near = |a: [f32; 2], b: [f32; 2]| (a[0] - b[0]).hypot(a[1] - b[1]) < 1e-3;
    let mut outer = 0;
    for ((vertex, &output), &source_place) in warp.vertices.iter().zip(&outputs).zip(&sources) {
        match *vertex {
            Vertex::Frame(_) => assert!(near(output, similarity.apply(source_place)), "{vertex:?}"),
            Vertex::Ring { ring, oval } if ring as usize == RINGS - 1 => {
                outer += 1;
                assert!(near(output, similarity.apply(source_place)), "{vertex:?}");
                // ... which is not where the drawn outline alone would put it.
                assert!(!near(output, own[RINGS - 1][oval as usize]), "{vertex:?}");
            }
            // The inner ring follows the drawn outline.
            Vertex::Ring { ring: 0, oval } => assert!(near(output, own[0][oval as usize]), "{vertex:?}"),
            _ => {}
        }
    }
    assert!(outer > 0);
    // The pixels in the image's corners are the source under the similarity.
    let (warped, report) = warp.warp_with_report(&source, &template, &destination);
    assert!(clean(&report), "{report:?}");
    let reference = under_similarity(&source, &inverse, SIDE);
    let corner = |v: u32| !(12..SIDE - 12).contains(&v);
    let (max, _) = differences(&warped, &reference, |x, y| corner(x) && corner(y));
    assert!(max <= 1, "largest difference in the corners {max}");
    // Inside the face it is not.
    let [cx, cy] = destination.centroid();
    let (_, mean) = differences(&warped, &reference, |x, y| {
        (x as f32 - cx).abs() < 30.0 && (y as f32 - cy - 30.0).abs() < 20.0
    });
    assert!(mean > 3.0, "mean difference in the face {mean}");
}
