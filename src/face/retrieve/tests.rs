use super::*;

/// A small deterministic generator (splitmix64), so the random indexes are the same every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    /// Uniform in 0..1.
    fn uniform(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Standard normal (Box-Muller).
    fn normal(&mut self) -> f32 {
        let u = 1.0 - self.uniform();
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
    }

    fn colour(&mut self) -> [f32; 6] {
        [(); 6].map(|_| self.uniform())
    }
}

/// Standard deviations falling off like a PCA's.
fn pca_sd(k: usize) -> Vec<f32> {
    (0..k).map(|i| 4.0 / (1.0 + i as f32).sqrt()).collect()
}

/// `n` faces whose coefficients are normal with `sd`, and random colours.
fn random_index(rng: &mut Rng, n: usize, sd: &[f32]) -> FaceIndex {
    let coefficients = (0..n).flat_map(|_| sd.iter().map(|s| s * rng.normal()).collect::<Vec<_>>()).collect();
    let colours = (0..n).map(|_| rng.colour()).collect();
    FaceIndex::new(coefficients, sd.to_vec(), colours).unwrap()
}

fn shape(coefficients: Vec<f32>) -> Query {
    Query { coefficients, hints: HintColours::default() }
}

/// Faces given in standard deviations (sd 1 everywhere), with `colour` each.
fn index_of(faces: &[Vec<f32>], colours: &[[f32; 6]]) -> FaceIndex {
    let k = faces[0].len();
    FaceIndex::new(faces.concat(), vec![1.0; k], colours.to_vec()).unwrap()
}

/// `count` faces far (norm about 40) from everything near the origin.
fn far_faces(rng: &mut Rng, count: usize, k: usize) -> Vec<Vec<f32>> {
    (0..count)
        .map(|_| {
            let v: Vec<f32> = (0..k).map(|_| rng.normal()).collect();
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.iter().map(|x| 40.0 * x / norm).collect()
        })
        .collect()
}

const GREY: [f32; 6] = [0.5; 6];

#[test]
fn nearest_is_the_brute_force_nearest() {
    let mut rng = Rng(7);
    let (n, k) = (400, 10);
    let sd: Vec<f32> = (0..k).map(|_| 0.3 + 2.7 * rng.uniform()).collect();
    let coefficients: Vec<f32> = (0..n * k).map(|i| sd[i % k] * rng.normal()).collect();
    let colours: Vec<[f32; 6]> = (0..n).map(|_| rng.colour()).collect();
    let index = FaceIndex::new(coefficients.clone(), sd.clone(), colours.clone()).unwrap();
    assert_eq!((index.face_count(), index.components()), (n, k));

    for round in 0..24 {
        let rgb = |rng: &mut Rng| [rng.uniform(), rng.uniform(), rng.uniform()];
        let hints = HintColours {
            skin: (round % 2 == 1).then(|| rgb(&mut rng)),
            hair: (round % 4 >= 2).then(|| rgb(&mut rng)),
        };
        let query = Query { coefficients: sd.iter().map(|s| 1.5 * s * rng.normal()).collect(), hints };
        // The distance as the module's doc states it, in f64, from the raw numbers.
        let delta_e = |a: [f32; 3], b: [f32; 3]| {
            let (a, b) = (lab(a), lab(b));
            (0..3).map(|i| f64::from(a[i] - b[i]).powi(2)).sum::<f64>().sqrt()
        };
        let mut brute: Vec<(f64, usize)> = (0..n)
            .map(|face| {
                let mut d2: f64 = (0..k)
                    .map(|i| (f64::from(query.coefficients[i] - coefficients[face * k + i]) / f64::from(sd[i])).powi(2))
                    .sum();
                let c = colours[face];
                if let Some(skin) = hints.skin {
                    d2 += (delta_e(skin, [c[0], c[1], c[2]]) / f64::from(DELTA_E_PER_SD)).powi(2);
                }
                if let Some(hair) = hints.hair {
                    d2 += (delta_e(hair, [c[3], c[4], c[5]]) / f64::from(DELTA_E_PER_SD)).powi(2);
                }
                (d2.sqrt(), face)
            })
            .collect();
        brute.sort_by(|a, b| a.0.total_cmp(&b.0));

        let found = index.nearest(&query, 25).unwrap();
        assert_eq!(found.len(), 25);
        for (rank, (choice, (distance, face))) in found.iter().zip(&brute).enumerate() {
            assert_eq!(choice.face, *face, "round {round}, rank {rank}: {found:?}");
            assert!((f64::from(choice.distance) - distance).abs() < 1e-4 * distance.max(1.0), "{choice:?} {distance}");
            let direct = index.distance(&query, *face).unwrap();
            assert!((f64::from(direct) - distance).abs() < 1e-4 * distance.max(1.0), "{direct} {distance}");
        }
    }
    let query = shape(vec![0.0; k]);
    assert_eq!(index.nearest(&query, n + 10).unwrap().len(), n);
    assert!(index.nearest(&query, 0).unwrap().is_empty());
}

/// Two faces 4 sd apart on the first component (A at -2, B at +2), the rest far away.
fn two_faces() -> FaceIndex {
    let mut rng = Rng(11);
    let k = 6;
    let mut faces = vec![vec![0.0; k], vec![0.0; k]];
    faces[0][0] = -2.0;
    faces[1][0] = 2.0;
    faces.extend(far_faces(&mut rng, 30, k));
    index_of(&faces, &vec![GREY; faces.len()])
}

/// On the segment from A (t = 0) to B (t = 1), with `off` sd off it on the second component.
fn between(t: f32, off: f32) -> Query {
    let mut coefficients = vec![0.0; 6];
    coefficients[0] = -2.0 + 4.0 * t;
    coefficients[1] = off;
    shape(coefficients)
}

#[test]
fn a_query_moving_from_one_face_to_another_changes_once_and_only_when_the_other_is_clearly_better() {
    let index = two_faces();
    for seed in 0..8 {
        let mut retriever = Retriever::new(seed);
        let mut changes = Vec::new();
        let mut last = retriever.choose(&index, Some(&between(0.0, 0.0))).unwrap().face;
        assert_eq!(last, 0, "seed {seed}");
        for step in 1..=200 {
            let t = step as f32 / 200.0;
            let face = retriever.choose(&index, Some(&between(t, 0.0))).unwrap().face;
            if face != last {
                changes.push((t, face));
                last = face;
            }
        }
        // A is left once B is clearly better: d_A > 1.25 d_B + 0.25, t > 0.583; not at 0.5.
        assert_eq!(changes.len(), 1, "seed {seed}: {changes:?}");
        let (t, face) = changes[0];
        assert_eq!(face, 1);
        assert!((0.57..0.6).contains(&t), "seed {seed}: changed at t = {t}");

        // And back: B is held past the midpoint too.
        changes.clear();
        for step in (0..200).rev() {
            let t = step as f32 / 200.0;
            let face = retriever.choose(&index, Some(&between(t, 0.0))).unwrap().face;
            if face != last {
                changes.push((t, face));
                last = face;
            }
        }
        assert_eq!(changes.len(), 1, "seed {seed}: {changes:?}");
        assert!(changes[0].1 == 0 && (0.4..0.43).contains(&changes[0].0), "seed {seed}: {changes:?}");
    }
}

#[test]
fn small_moves_about_the_midpoint_never_flip_the_face() {
    let index = two_faces();
    let mut rng = Rng(3);
    for start in [0.0, 1.0] {
        let mut retriever = Retriever::new(5);
        let held = retriever.choose(&index, Some(&between(start, 0.0))).unwrap().face;
        let mut changes = 0;
        let mut last = held;
        // Walk to the midpoint, then jitter about it: up to 0.07 along the segment (the two
        // faces' distances differ by up to a third) and 0.3 sd across it.
        let path = (0..=50).map(|s| start + (0.5 - start) * s as f32 / 50.0);
        let jitter: Vec<f32> = (0..600).map(|_| 0.5 + 0.07 * (2.0 * rng.uniform() - 1.0)).collect();
        for (step, t) in path.chain(jitter).enumerate() {
            let off = if step > 50 { 0.3 * (2.0 * rng.uniform() - 1.0) } else { 0.0 };
            let face = retriever.choose(&index, Some(&between(t, off))).unwrap().face;
            if face != last {
                changes += 1;
                last = face;
            }
        }
        assert_eq!((changes, last), (0, held), "from t = {start}");
    }

    // Swings that make the other face clearly better do change it, once per swing.
    let mut retriever = Retriever::new(5);
    let mut faces = Vec::new();
    for swing in 0..10 {
        let t = if swing % 2 == 0 { 0.2 } else { 0.8 };
        faces.push(retriever.choose(&index, Some(&between(t, 0.0))).unwrap().face);
    }
    assert_eq!(faces, [0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
}

/// A drawing grown stroke by stroke, as the mesh network would see it: the estimate starts far
/// from the face being drawn (the first strokes say little), closes in on it, and jitters by a
/// tenth of an sd per component from one stroke to the next.
fn grown_drawing(rng: &mut Rng, sd: &[f32], strokes: usize) -> Vec<Query> {
    let target: Vec<f32> = sd.iter().map(|s| s * rng.normal()).collect();
    let start: Vec<f32> = sd.iter().map(|s| s * rng.normal()).collect();
    (0..strokes)
        .map(|stroke| {
            let left = (1.0 - stroke as f32 / (strokes as f32 * 0.6)).max(0.0).powi(2);
            let coefficients = (0..sd.len()).map(|i| target[i] + left * start[i] + 0.1 * sd[i] * rng.normal()).collect();
            shape(coefficients)
        })
        .collect()
}

/// The faces a slot showed, stroke by stroke: how often it changed, and the fewest strokes
/// between leaving a face and coming back to it (`usize::MAX` when it never came back).
fn changes_and_return(faces: &[usize]) -> (usize, usize) {
    let mut changes = 0;
    let mut soonest_return = usize::MAX;
    let mut left_at: Vec<(usize, usize)> = Vec::new();
    for (step, pair) in faces.windows(2).enumerate() {
        if pair[0] != pair[1] {
            changes += 1;
            if let Some(&(_, at)) = left_at.iter().rev().find(|(face, _)| *face == pair[1]) {
                soonest_return = soonest_return.min(step + 1 - at);
            }
            left_at.push((pair[0], step + 1));
        }
    }
    (changes, soonest_return)
}

#[test]
fn a_drawing_grown_stroke_by_stroke_changes_face_rarely_and_never_back_and_forth() {
    let mut rng = Rng(2024);
    let sd = pca_sd(16);
    let index = random_index(&mut rng, 3000, &sd);
    let (strokes, settled_from) = (150, 100);
    let seeds = [1, 2, 3, 4];
    // Per drawing, the four strip slots and a lone retriever (as slot 4), with memory and
    // chosen afresh every stroke.
    let (mut total, mut total_afresh, mut settled, mut settled_afresh) = (0, 0, 0, 0);
    for drawing in 0..6 {
        let mut strip = Retrievers::new(&seeds);
        let mut lone = Retriever::new(seeds[0]);
        let mut shown: Vec<Vec<usize>> = vec![Vec::new(); 5];
        let mut afresh: Vec<Vec<usize>> = vec![Vec::new(); 5];
        for query in &grown_drawing(&mut rng, &sd, strokes) {
            let chosen = strip.choose(&index, Some(query)).unwrap();
            let fresh = Retrievers::new(&seeds).choose(&index, Some(query)).unwrap();
            for slot in 0..4 {
                shown[slot].push(chosen[slot].face);
                afresh[slot].push(fresh[slot].face);
            }
            shown[4].push(lone.choose(&index, Some(query)).unwrap().face);
            afresh[4].push(Retriever::new(seeds[0]).choose(&index, Some(query)).unwrap().face);
        }
        for slot in 0..5 {
            let (changes, soonest_return) = changes_and_return(&shown[slot]);
            let context = format!("drawing {drawing}, slot {slot}: {:?}", shown[slot]);
            assert!(changes <= 4, "{changes} changes, {context}");
            assert!(soonest_return > 50, "back to a face after {soonest_return} strokes, {context}");
            // Once the drawing has settled (it only jitters), a face changes once at most.
            let (changes_settled, _) = changes_and_return(&shown[slot][settled_from..]);
            assert!(changes_settled <= 1, "{changes_settled} changes when settled, {context}");
            total += changes;
            settled += changes_settled;
            total_afresh += changes_and_return(&afresh[slot]).0;
            settled_afresh += changes_and_return(&afresh[slot][settled_from..]).0;
        }
    }
    // The simulation is one where choosing afresh every stroke flickers.
    assert!(total_afresh > 10 * total, "{total} changes, {total_afresh} choosing afresh");
    assert!(settled <= 4 && settled_afresh > 100, "settled: {settled} changes, {settled_afresh} choosing afresh");
}

#[test]
fn four_seeds_give_four_faces_and_a_seed_always_the_same_face() {
    let mut rng = Rng(5);
    let sd = pca_sd(12);
    let index = random_index(&mut rng, 800, &sd);
    for round in 0..20 {
        let query = (round > 0).then(|| shape(sd.iter().map(|s| s * rng.normal()).collect()));
        let mut strip = Retrievers::new(&[10, 20, 30, 40]);
        let faces: Vec<usize> = strip.choose(&index, query.as_ref()).unwrap().iter().map(|c| c.face).collect();
        let mut distinct = faces.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), 4, "round {round}: {faces:?}");
        let again: Vec<usize> =
            Retrievers::new(&[10, 20, 30, 40]).choose(&index, query.as_ref()).unwrap().iter().map(|c| c.face).collect();
        assert_eq!(again, faces);
        assert_eq!(strip.current(), faces.iter().map(|&f| Some(f)).collect::<Vec<_>>());
        assert_eq!(strip.seeds().collect::<Vec<_>>(), [10, 20, 30, 40]);
        // A lone retriever of the first seed picks what the strip's first slot picked.
        let lone = Retriever::new(10).choose(&index, query.as_ref()).unwrap();
        assert_eq!(lone.face, faces[0]);
        assert_eq!(Retriever::new(10).choose(&index, query.as_ref()).unwrap(), lone);
    }
}

/// `good` faces on a sphere of radius 5 about the origin (their distances within 0.2 % of each
/// other, all in the good set of a query at the origin), the rest far away.
fn sphere_index(good: usize) -> (FaceIndex, Vec<Vec<f32>>) {
    let mut rng = Rng(17);
    let k = 8;
    let mut faces: Vec<Vec<f32>> = (0..good)
        .map(|i| {
            let v: Vec<f32> = (0..k).map(|_| rng.normal()).collect();
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.iter().map(|x| (5.0 + 0.001 * i as f32) * x / norm).collect()
        })
        .collect();
    faces.extend(far_faces(&mut rng, 40, k));
    (index_of(&faces, &vec![GREY; faces.len()]), faces)
}

#[test]
fn seeds_pick_different_people_among_the_good_matches() {
    let (index, _) = sphere_index(NEAREST);
    let query = shape(vec![0.0; 8]);
    let mut picked = [0usize; NEAREST];
    for seed in 0..120 {
        let face = Retriever::new(seed).choose(&index, Some(&query)).unwrap().face;
        assert!(face < NEAREST, "seed {seed} picked {face}, not a good match");
        picked[face] += 1;
    }
    // Rendezvous spreads the seeds over the good set: every face picked, none by half the seeds.
    assert!(picked.iter().all(|&n| (1..30).contains(&n)), "{picked:?}");
}

#[test]
fn a_seed_keeps_its_pick_when_an_unpicked_face_leaves_the_good_set() {
    let (index, faces) = sphere_index(NEAREST);
    let query = shape(vec![0.0; 8]);
    for seed in 0..40 {
        let pick = Retriever::new(seed).choose(&index, Some(&query)).unwrap().face;
        let strip: Vec<usize> =
            Retrievers::new(&[seed, seed + 100]).choose(&index, Some(&query)).unwrap().iter().map(|c| c.face).collect();
        for leaving in (0..NEAREST).filter(|&f| f != pick) {
            // The leaving face moves far away: the same faces, one fewer good match.
            let mut moved = faces.clone();
            moved[leaving] = vec![60.0; 8];
            let smaller = index_of(&moved, &vec![GREY; moved.len()]);
            assert_eq!(smaller.nearest(&query, NEAREST).unwrap().iter().filter(|c| c.distance < 6.0).count(), NEAREST - 1);
            let again = Retriever::new(seed).choose(&smaller, Some(&query)).unwrap().face;
            assert_eq!(again, pick, "seed {seed}: face {leaving} left");
            if !strip.contains(&leaving) {
                let strip_again: Vec<usize> = Retrievers::new(&[seed, seed + 100])
                    .choose(&smaller, Some(&query))
                    .unwrap()
                    .iter()
                    .map(|c| c.face)
                    .collect();
                assert_eq!(strip_again, strip, "seed {seed}: face {leaving} left");
            }
        }
    }
}

#[test]
fn a_pinned_face_stays_whatever_the_query() {
    let mut rng = Rng(23);
    let sd = pca_sd(10);
    let index = random_index(&mut rng, 500, &sd);
    let queries: Vec<Query> = (0..40).map(|_| shape(sd.iter().map(|s| 2.0 * s * rng.normal()).collect())).collect();

    let mut retriever = Retriever::new(1);
    retriever.choose(&index, Some(&queries[0])).unwrap();
    retriever.pin(123);
    assert!(retriever.is_pinned());
    for query in &queries {
        let choice = retriever.choose(&index, Some(query)).unwrap();
        assert_eq!(choice, Choice { face: 123, distance: index.distance(query, 123).unwrap() });
    }
    assert_eq!(retriever.choose(&index, None).unwrap().face, 123);
    // Unpinned, a face far from the query gives way to a good match.
    retriever.unpin();
    assert!(!retriever.is_pinned());
    let far = queries.iter().find(|q| index.nearest(q, 40).unwrap().iter().all(|c| c.face != 123)).unwrap();
    let choice = retriever.choose(&index, Some(far)).unwrap();
    let best = index.nearest(far, 1).unwrap()[0].distance;
    assert!(choice.face != 123 && choice.distance <= best * (1.0 + ENTER_MARGIN), "{choice:?} best {best}");

    // In the strip, a pinned face stays in its slot, and a slot that showed it moves.
    let mut strip = Retrievers::new(&[1, 2, 3, 4]);
    let first = strip.choose(&index, Some(&queries[0])).unwrap();
    strip.pin(2, first[0].face);
    assert!(strip.is_pinned(2) && !strip.is_pinned(0));
    for query in &queries {
        let faces: Vec<usize> = strip.choose(&index, Some(query)).unwrap().iter().map(|c| c.face).collect();
        assert_eq!(faces[2], first[0].face);
        let mut distinct = faces.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), 4, "{faces:?}");
    }
    strip.unpin(2);
    assert!(!strip.is_pinned(2));
    strip.reset();
    assert_eq!(strip.current(), [None; 4]);

    // A pinned face the index does not have (a smaller bank loaded since) is forgotten.
    retriever.pin(9999);
    let choice = retriever.choose(&index, Some(&queries[1])).unwrap();
    assert!(choice.face < index.face_count() && !retriever.is_pinned());
}

#[test]
fn a_hinted_hair_colour_moves_the_choice_to_matching_hair() {
    let mut rng = Rng(31);
    let k = 8;
    // Twenty faces of nearly the same shape (1 to 1.2 sd from the query); the even ones have
    // black hair, the odd ones blond; face 0, black-haired, is the nearest.
    let (black, blond) = ([0.05, 0.04, 0.04], [0.85, 0.72, 0.45]);
    let mut faces = Vec::new();
    let mut colours = Vec::new();
    for i in 0..20 {
        let v: Vec<f32> = (0..k).map(|_| rng.normal()).collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        faces.push(v.iter().map(|x| (1.0 + 0.01 * i as f32) * x / norm).collect());
        let hair = if i % 2 == 0 { black } else { blond };
        colours.push([0.8, 0.6, 0.5, hair[0], hair[1], hair[2]]);
    }
    faces.extend(far_faces(&mut rng, 20, k));
    colours.extend([GREY; 20]);
    let index = index_of(&faces, &colours);
    let plain = shape(vec![0.0; k]);
    let hinted = |hair| Query { hints: HintColours { skin: None, hair: Some(hair) }, ..plain.clone() };

    for seed in 0..16 {
        let mut retriever = Retriever::new(seed);
        let face = retriever.choose(&index, Some(&plain)).unwrap().face;
        assert!(face < 20, "seed {seed}: {face}");
        // A hint of the black hair it already shows (a little off) keeps the face.
        if face.is_multiple_of(2) {
            assert_eq!(retriever.choose(&index, Some(&hinted([0.08, 0.06, 0.05]))).unwrap().face, face);
        }
        // A blond hint moves a black-haired face to a blond one, held or fresh.
        let moved = retriever.choose(&index, Some(&hinted(blond))).unwrap().face;
        assert!(moved < 20 && moved % 2 == 1, "seed {seed}: {face} -> {moved}");
        assert_eq!(Retriever::new(seed).choose(&index, Some(&hinted(blond))).unwrap().face % 2, 1);
        assert_eq!(Retriever::new(seed).choose(&index, Some(&hinted(black))).unwrap().face % 2, 0);
    }
    // Without a hint, shape decides: the nearest in shape has black hair.
    assert_eq!(index.nearest(&plain, 1).unwrap()[0].face, 0);
    assert_eq!(index.nearest(&hinted(blond), 1).unwrap()[0].face, 1);
    let skin = Query { hints: HintColours { skin: Some([0.2, 0.1, 0.05]), hair: None }, ..plain.clone() };
    assert!(index.distance(&skin, 0).unwrap() > index.distance(&plain, 0).unwrap() + 3.0);
}

#[test]
fn no_query_keeps_the_face_and_a_first_face_is_near_the_mean() {
    let mut rng = Rng(41);
    let sd = pca_sd(10);
    let index = random_index(&mut rng, 300, &sd);
    let near_mean: Vec<usize> = index.nearest(&shape(vec![0.0; 10]), NEAREST).unwrap().iter().map(|c| c.face).collect();
    let mut retriever = Retriever::new(8);
    let first = retriever.choose(&index, None).unwrap();
    assert!(near_mean.contains(&first.face), "{first:?}");
    let query = shape(sd.iter().map(|s| 2.0 * s * rng.normal()).collect());
    let chosen = retriever.choose(&index, Some(&query)).unwrap();
    assert_eq!(retriever.choose(&index, None).unwrap().face, chosen.face);
    assert_eq!(retriever.current(), Some(chosen.face));
    retriever.reset();
    assert_eq!(retriever.current(), None);
    assert_eq!(retriever.seed(), 8);
}

#[test]
fn a_strip_wider_than_the_index_shows_every_face() {
    let index = index_of(&[vec![0.0, 0.0], vec![1.0, 0.0]], &[GREY; 2]);
    let mut strip = Retrievers::new(&[1, 2, 3, 4]);
    let faces: Vec<usize> = strip.choose(&index, Some(&shape(vec![0.2, 0.0]))).unwrap().iter().map(|c| c.face).collect();
    assert!(faces.contains(&0) && faces.contains(&1), "{faces:?}");
}

#[test]
fn bad_indexes_and_queries_are_refused_with_their_reason() {
    let two = vec![GREY; 2];
    assert_eq!(FaceIndex::new(vec![], vec![1.0], vec![]).unwrap_err(), FaceIndexError::NoFaces);
    assert_eq!(FaceIndex::new(vec![], vec![], two.clone()).unwrap_err(), FaceIndexError::NoComponents);
    assert_eq!(
        FaceIndex::new(vec![0.0; 5], vec![1.0; 3], two.clone()).unwrap_err(),
        FaceIndexError::CoefficientCount { faces: 2, components: 3, expected: 6, found: 5 }
    );
    for bad in [0.0, -1.0, f32::INFINITY, 1e-45] {
        assert_eq!(
            FaceIndex::new(vec![0.0; 6], vec![1.0, bad, 1.0], two.clone()).unwrap_err(),
            FaceIndexError::BadSd { component: 1, value: bad }
        );
    }
    assert!(matches!(
        FaceIndex::new(vec![0.0; 6], vec![1.0, f32::NAN, 1.0], two.clone()).unwrap_err(),
        FaceIndexError::BadSd { component: 1, .. }
    ));
    let mut coefficients = vec![0.0; 6];
    coefficients[4] = f32::NAN;
    assert_eq!(
        FaceIndex::new(coefficients.clone(), vec![1.0; 3], two.clone()).unwrap_err(),
        FaceIndexError::NotFinite { face: 1, component: 1 }
    );
    // Finite, but not in standard deviations.
    coefficients[4] = 3e38;
    assert_eq!(
        FaceIndex::new(coefficients, vec![1.0, 0.01, 1.0], two.clone()).unwrap_err(),
        FaceIndexError::NotFinite { face: 1, component: 1 }
    );
    let mut colours = two.clone();
    colours[1][4] = 1.5;
    assert_eq!(
        FaceIndex::new(vec![0.0; 6], vec![1.0; 3], colours.clone()).unwrap_err(),
        FaceIndexError::BadColour { face: 1, channel: 4, value: 1.5 }
    );
    colours[1][4] = f32::NAN;
    assert!(matches!(
        FaceIndex::new(vec![0.0; 6], vec![1.0; 3], colours).unwrap_err(),
        FaceIndexError::BadColour { face: 1, channel: 4, .. }
    ));

    let index = FaceIndex::new(vec![0.0, 0.0, 0.0, 1.0, 1.0, 1.0], vec![1.0; 3], two).unwrap();
    let mut retriever = Retriever::new(0);
    let mut strip = Retrievers::new(&[0, 1]);
    let good = shape(vec![0.9, 0.9, 0.9]);
    assert_eq!(retriever.choose(&index, Some(&good)).unwrap().face, 1);
    let before = strip.choose(&index, Some(&good)).unwrap();
    let refused = [
        (shape(vec![0.0; 2]), QueryError::Length { expected: 3, found: 2 }),
        (shape(vec![0.0; 4]), QueryError::Length { expected: 3, found: 4 }),
        (shape(vec![0.0, f32::NAN, 0.0]), QueryError::NotFinite(1)),
        (shape(vec![0.0, 0.0, f32::NEG_INFINITY]), QueryError::NotFinite(2)),
        (
            Query { hints: HintColours { skin: None, hair: Some([0.5, f32::NAN, 0.5]) }, ..good.clone() },
            QueryError::HintNotFinite("hair"),
        ),
        (
            Query { hints: HintColours { skin: Some([f32::INFINITY, 0.5, 0.5]), hair: None }, ..good.clone() },
            QueryError::HintNotFinite("skin"),
        ),
    ];
    for (query, error) in refused {
        assert_eq!(index.nearest(&query, 1).unwrap_err(), error);
        assert_eq!(index.distance(&query, 0).unwrap_err(), error);
        assert_eq!(retriever.choose(&index, Some(&query)).unwrap_err(), error);
        assert_eq!(strip.choose(&index, Some(&query)).unwrap_err(), error);
        // A refused query changes nothing.
        assert_eq!(retriever.current(), Some(1));
        assert_eq!(strip.current(), before.iter().map(|c| Some(c.face)).collect::<Vec<_>>());
    }
}
