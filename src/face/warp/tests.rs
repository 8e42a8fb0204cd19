use super::*;
use crate::face::mesh::{LEFT_EYE_OUTER, RIGHT_EYE_OUTER};

/// A face-like mesh in a 256 px frame: the oval on an ellipse, the eye corners on the eye line,
/// every other point inside the oval on a spiral (distinct, deterministic).
fn face_mesh() -> Mesh {
    let (cx, cy, rx, ry) = (128.0f32, 120.0f32, 62.0f32, 80.0f32);
    let mut points = vec![[0.0f32; 2]; MESH_POINTS];
    let mut placed = vec![false; MESH_POINTS];
    for (k, &i) in FACE_OVAL.iter().enumerate() {
        let t = k as f32 / FACE_OVAL.len() as f32 * std::f32::consts::TAU - std::f32::consts::FRAC_PI_2;
        points[i] = [cx + rx * t.cos(), cy + ry * t.sin()];
        placed[i] = true;
    }
    points[LEFT_EYE_OUTER] = [cx - 38.4, 107.5];
    points[RIGHT_EYE_OUTER] = [cx + 38.4, 107.5];
    placed[LEFT_EYE_OUTER] = true;
    placed[RIGHT_EYE_OUTER] = true;
    let mut k = 0;
    for i in 0..MESH_POINTS {
        if !placed[i] {
            let r = 0.85 * ((k as f32 + 0.5) / MESH_POINTS as f32).sqrt();
            let t = k as f32 * 2.399_963;
            points[i] = [cx + rx * r * t.cos(), cy + ry * r * t.sin()];
            k += 1;
        }
    }
    Mesh::new(points).unwrap()
}

/// A picture with structure everywhere: smooth gradients and a checker, so misplaced samples show.
fn picture(side: u32) -> RgbImage {
    RgbImage::from_fn(side, side, |x, y| {
        let check = if (x / 16 + y / 16) % 2 == 0 { 40 } else { 0 };
        image::Rgb([(x % 256) as u8 / 2 + check, (y % 256) as u8 / 2 + check, ((x + y) / 4 % 256) as u8])
    })
}

fn mean_difference(a: &RgbImage, b: &RgbImage) -> f64 {
    let total: u64 = a.as_raw().iter().zip(b.as_raw()).map(|(&p, &q)| u64::from(p.abs_diff(q))).sum();
    total as f64 / a.as_raw().len() as f64
}

#[test]
fn a_face_warped_onto_its_own_mesh_is_unchanged() {
    let mesh = face_mesh();
    let warp = FaceWarp::new(&mesh, 256);
    let source = picture(256);
    let out = warp.warp(&source, &mesh, &mesh);
    let worst = source.as_raw().iter().zip(out.as_raw()).map(|(&p, &q)| p.abs_diff(q)).max().unwrap();
    assert!(worst <= 1, "largest difference {worst}");
}

#[test]
fn a_mesh_moved_by_a_similarity_moves_the_whole_picture_by_it() {
    let mesh = face_mesh();
    let warp = FaceWarp::new(&mesh, 256);
    let source = picture(256);
    // Turned by 0.1 rad and shrunk to 0.9 about the face centre.
    let centre = mesh.centroid();
    let (a, b) = (0.9 * 0.1f32.cos(), 0.9 * 0.1f32.sin());
    let moved = Similarity { a, b, tx: centre[0] - (a * centre[0] - b * centre[1]), ty: centre[1] - (b * centre[0] + a * centre[1]) };
    let out = warp.warp(&source, &mesh, &mesh.transformed(&moved));
    let back = moved.inverse().unwrap();
    let sampler = Sampler::new(&source);
    let expected = RgbImage::from_fn(256, 256, |x, y| {
        let [u, v] = back.apply([x as f32 + 0.5, y as f32 + 0.5]);
        image::Rgb(sampler.sample(u, v))
    });
    let difference = mean_difference(&out, &expected);
    assert!(difference < 1.0, "mean difference {difference:.2}");
}

#[test]
fn what_lies_at_a_mesh_point_of_the_source_lies_at_that_point_of_the_destination() {
    let mesh = face_mesh();
    let warp = FaceWarp::new(&mesh, 256);
    // The destination: the mouth region pulled down, the rest as it was.
    let mut points = mesh.points().to_vec();
    let nose_tip = 200; // an inner point
    for point in points.iter_mut() {
        if point[1] > 140.0 {
            point[1] += 10.0 * ((point[1] - 140.0) / 60.0).min(1.0);
        }
    }
    let destination = Mesh::new(points).unwrap();
    let mut source = RgbImage::from_pixel(256, 256, image::Rgb([255, 255, 255]));
    let marked = mesh.points()[nose_tip];
    for dy in -2..=2 {
        for dx in -2..=2 {
            source.put_pixel((marked[0] as i32 + dx) as u32, (marked[1] as i32 + dy) as u32, image::Rgb([0, 0, 0]));
        }
    }
    let out = warp.warp(&source, &mesh, &destination);
    let target = destination.points()[nose_tip];
    let (mut sx, mut sy, mut count) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y, pixel) in out.enumerate_pixels() {
        if pixel.0[0] < 128 {
            sx += x as f32 + 0.5;
            sy += y as f32 + 0.5;
            count += 1.0;
        }
    }
    assert!(count > 10.0, "the mark survives");
    let (mx, my) = (sx / count, sy / count);
    assert!((mx - target[0]).hypot(my - target[1]) < 1.5, "mark at ({mx:.1}, {my:.1}), point at {target:?}");
}

#[test]
fn every_output_pixel_is_painted_by_a_triangle() {
    let mesh = face_mesh();
    let warp = FaceWarp::new(&mesh, 256);
    let destination = mesh.transformed(&Similarity { a: 1.3, b: 0.2, tx: -60.0, ty: -20.0 });
    let (pairs, _) = warp.control_points(&mesh, &destination);
    let points: Vec<[f32; 2]> = pairs.iter().map(|p| p.0).collect();
    let triangles = delaunay(&points);
    let mut covered = vec![false; 256 * 256];
    let mut out = RgbImage::new(256, 256);
    for t in &triangles {
        let [a, b, c] = t.map(|i| pairs[i]);
        fill_triangle(&Sampler::new(&picture(256)), &mut out, &mut covered, [a.0, b.0, c.0], [a.1, b.1, c.1]);
    }
    let missed = covered.iter().filter(|c| !**c).count();
    assert_eq!(missed, 0, "{missed} pixels outside every triangle");
}

#[test]
fn the_triangulation_is_delaunay_and_covers_the_hull() {
    let points: Vec<[f32; 2]> = (0..200)
        .map(|i| {
            let t = i as f32 * 2.399_963;
            let r = (i as f32 + 0.5).sqrt() * 7.0;
            [100.0 + r * t.cos(), 100.0 + r * t.sin()]
        })
        .collect();
    let triangles = delaunay(&points);
    // Euler: a triangulation of n points with h on the hull has 2n - 2 - h triangles.
    assert!(triangles.len() > 2 * points.len() - 2 - 60, "{} triangles", triangles.len());
    for t in &triangles {
        let [a, b, c] = t.map(|i| points[i]);
        let circle = |p: [f32; 2]| {
            let m = |q: [f32; 2]| [f64::from(q[0] - p[0]), f64::from(q[1] - p[1])];
            let (a, b, c) = (m(a), m(b), m(c));
            let det = (a[0] * a[0] + a[1] * a[1]) * (b[0] * c[1] - c[0] * b[1])
                - (b[0] * b[0] + b[1] * b[1]) * (a[0] * c[1] - c[0] * a[1])
                + (c[0] * c[0] + c[1] * c[1]) * (a[0] * b[1] - b[0] * a[1]);
            let orientation = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
            det * orientation.signum()
        };
        for (i, &p) in points.iter().enumerate() {
            if !t.contains(&i) {
                assert!(circle(p) <= 1e-3, "point {i} inside the circumcircle of {t:?}");
            }
        }
    }
}

#[test]
fn a_folded_or_far_off_destination_mesh_still_gives_a_whole_picture() {
    let mesh = face_mesh();
    let warp = FaceWarp::new(&mesh, 256);
    // Mirrored left to right (every triangle of the mesh folds) and half off the image.
    let folded = Mesh::new(mesh.points().iter().map(|&[x, y]| [300.0 - x, y + 90.0]).collect()).unwrap();
    let out = warp.warp(&picture(256), &mesh, &folded);
    assert_eq!(out.dimensions(), (256, 256));
    let same_point = Mesh::new(vec![[128.0, 128.0]; MESH_POINTS]).unwrap();
    let out = warp.warp(&picture(256), &mesh, &same_point);
    assert_eq!(out.dimensions(), (256, 256));
}

#[test]
fn far_from_the_face_the_warp_is_the_global_similarity() {
    let mesh = face_mesh();
    let warp = FaceWarp::new(&mesh, 256);
    let source = picture(256);
    // The jaw drawn longer: the face changes, the corners move only as the whole mesh does.
    let destination = Mesh::new(
        mesh.points().iter().map(|&[x, y]| if y > 150.0 { [x, y + 12.0] } else { [x, y] }).collect(),
    )
    .unwrap();
    let out = warp.warp(&source, &mesh, &destination);
    let global = Similarity::fit(destination.points(), mesh.points()).unwrap();
    for (x, y) in [(2u32, 2u32), (253, 3), (3, 252), (252, 252)] {
        let [u, v] = global.apply([x as f32 + 0.5, y as f32 + 0.5]);
        let expected = Sampler::new(&source).sample(u, v);
        let found = out.get_pixel(x, y).0;
        let worst = (0..3).map(|c| expected[c].abs_diff(found[c])).max().unwrap();
        assert!(worst <= 3, "corner ({x}, {y}): {found:?} vs {expected:?}");
    }
}
