//! Retrieval: which real face of the bank is warped onto the drawing, chosen again after every
//! stroke. A [`FaceIndex`] is the searchable form of a bank (shape coefficients and colours,
//! plain numbers, so this file knows nothing of the bank file or the shape model); a
//! [`Retriever`] (one per variation slot, each with its seed) chooses a face for each [`Query`]
//! and keeps it while it stays good enough, so the face does not flicker while the user draws;
//! [`Retrievers`] gives the variation strip's slots different faces.
//!
//! The distance of a face to a query: the Euclidean distance of their shape coefficients, each
//! divided by its component's standard deviation (Mahalanobis in the shape model's diagonal),
//! joined in quadrature by the CIE Lab distance of each colour the user hinted, divided by
//! [`DELTA_E_PER_SD`]:
//! `d² = Σ ((q_i - f_i) / sd_i)² + (ΔE_skin / 10)² + (ΔE_hair / 10)²`.
//!
//! The choice, for a slot with a seed, where `best` is the distance of the nearest face that no
//! other slot shows:
//! - the *good set* is the [`NEAREST`] nearest of the faces no other slot shows, those whose
//!   distance is at most `best * (1 + ENTER_MARGIN)`; the seed picks from it by rendezvous
//!   (highest random weight) hashing of (seed, face), so its pick does not change when faces it
//!   did not pick leave the set, and different seeds pick different people;
//! - the face chosen is then *kept* while its distance is at most
//!   `best * (1 + EXIT_MARGIN) + EXIT_SLACK`, however many faces are nearer.
//!
//! Because the exit margin is much wider than the enter margin, a face only changes to one
//! clearly better than it, and going back needs the old face to be clearly better in turn: there
//! is no flicker between two faces. (Keeping a face only while it is among the n nearest would
//! break this: in a dense bank a small move of the query reorders many faces of nearly equal
//! distance.)

use super::colours::{HintColours, lab};

/// The good set is drawn from this many nearest faces (that no other slot shows).
pub const NEAREST: usize = 12;
/// Faces within `best * (1 + ENTER_MARGIN)` are good enough to be chosen.
pub const ENTER_MARGIN: f32 = 0.05;
/// The face chosen is kept while within `best * (1 + EXIT_MARGIN) + EXIT_SLACK`.
pub const EXIT_MARGIN: f32 = 0.25;
/// In the units of the distance (standard deviations): what a face is allowed to be worse than
/// the best when the best is (nearly) a perfect match, where a relative margin is no margin.
pub const EXIT_SLACK: f32 = 0.25;
/// A colour difference of this many CIE76 ΔE counts as much as one standard deviation of one
/// shape component: black against blond hair (ΔE about 65) weighs like 6.5 sd, more than the
/// shape distance from a drawing to its nearest faces (about 4 to 6 sd with 32 components), so
/// a hinted hair colour decides among the faces of a similar shape, and a skin or hair colour
/// off by a few ΔE (a user picking a colour near the one they mean) hardly counts.
pub const DELTA_E_PER_SD: f32 = 10.0;

/// A bank's numbers that cannot be searched.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum FaceIndexError {
    #[error("a face index needs at least one face")]
    NoFaces,
    #[error("a face index needs at least one shape component")]
    NoComponents,
    #[error("{faces} faces of {components} shape components need {expected} coefficients, found {found}")]
    CoefficientCount { faces: usize, components: usize, expected: usize, found: usize },
    #[error("shape component {component} has standard deviation {value}; it must be finite, above 0 and not tiny")]
    BadSd { component: usize, value: f32 },
    #[error("shape coefficient {component} of face {face} is not finite (or overflows in standard deviations)")]
    NotFinite { face: usize, component: usize },
    #[error("colour number {channel} of face {face} is {value}, not a number in 0..1")]
    BadColour { face: usize, channel: usize, value: f32 },
}

/// A query that does not fit the index it is searched in.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("the query has {found} shape coefficients, the face index {expected}")]
    Length { expected: usize, found: usize },
    #[error("shape coefficient {0} of the query is not finite (or overflows in standard deviations)")]
    NotFinite(usize),
    #[error("the {0} hint colour is not a finite number")]
    HintNotFinite(&'static str),
}

/// What the drawing asks for: its mesh's shape coefficients (in the bank's shape model) and the
/// colours the user hinted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Query {
    pub coefficients: Vec<f32>,
    pub hints: HintColours,
}

/// A face of the index and its distance to the query it was chosen for (to the mean shape,
/// coefficients 0 and no colours, when there was no query).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Choice {
    pub face: usize,
    pub distance: f32,
}

/// The searchable form of a face bank: `n` faces, each with `k` shape coefficients and 6 colour
/// numbers (skin r, g, b, hair r, g, b in 0..1). Never empty.
#[derive(Clone, Debug)]
pub struct FaceIndex {
    components: usize,
    /// Row-major `n x k`, each coefficient divided by its component's sd.
    scaled: Vec<f32>,
    inverse_sd: Vec<f32>,
    colours: Vec<[f32; 6]>,
    /// Skin Lab then hair Lab, divided by [`DELTA_E_PER_SD`].
    labs: Vec<[f32; 6]>,
}

impl FaceIndex {
    /// `coefficients`: `n x k` row-major, with `n = colours.len()` and `k = sd.len()`.
    pub fn new(coefficients: Vec<f32>, sd: Vec<f32>, colours: Vec<[f32; 6]>) -> Result<FaceIndex, FaceIndexError> {
        let (faces, components) = (colours.len(), sd.len());
        if faces == 0 {
            return Err(FaceIndexError::NoFaces);
        }
        if components == 0 {
            return Err(FaceIndexError::NoComponents);
        }
        let expected = faces.saturating_mul(components);
        if coefficients.len() != expected {
            return Err(FaceIndexError::CoefficientCount { faces, components, expected, found: coefficients.len() });
        }
        // A subnormal sd passes `> 0` but its inverse is infinite.
        if let Some((component, &value)) =
            sd.iter().enumerate().find(|(_, s)| !(s.is_finite() && **s > 0.0 && (1.0 / **s).is_finite()))
        {
            return Err(FaceIndexError::BadSd { component, value });
        }
        for (face, colour) in colours.iter().enumerate() {
            if let Some((channel, &value)) = colour.iter().enumerate().find(|(_, v)| !(0.0..=1.0).contains(*v)) {
                return Err(FaceIndexError::BadColour { face, channel, value });
            }
        }
        let inverse_sd: Vec<f32> = sd.iter().map(|s| 1.0 / s).collect();
        let mut scaled = coefficients;
        for row in scaled.chunks_exact_mut(components) {
            for (c, inverse) in row.iter_mut().zip(&inverse_sd) {
                *c *= inverse;
            }
        }
        // NaN and infinity stay so when scaled; a finite coefficient can overflow.
        if let Some(at) = scaled.iter().position(|c| !c.is_finite()) {
            return Err(FaceIndexError::NotFinite { face: at / components, component: at % components });
        }
        let labs = colours
            .iter()
            .map(|c| {
                let ([sl, sa, sb], [hl, ha, hb]) = (lab([c[0], c[1], c[2]]), lab([c[3], c[4], c[5]]));
                [sl, sa, sb, hl, ha, hb].map(|v| v / DELTA_E_PER_SD)
            })
            .collect();
        Ok(FaceIndex { components, scaled, inverse_sd, colours, labs })
    }

    pub fn face_count(&self) -> usize {
        self.colours.len()
    }

    /// k, the number of shape coefficients of every face and query.
    pub fn components(&self) -> usize {
        self.components
    }

    /// Skin r, g, b then hair r, g, b of `face`, as given.
    pub fn colours(&self, face: usize) -> [f32; 6] {
        self.colours[face]
    }

    /// The distance of `face` to `query` (see the module's doc).
    ///
    /// # Panics
    /// If the index has no such face.
    pub fn distance(&self, query: &Query, face: usize) -> Result<f32, QueryError> {
        let mut target = Target::default();
        self.target(Some(query), &mut target)?;
        Ok(self.squared_distance(&target, face).sqrt())
    }

    /// The `count` faces nearest to `query`, nearest first.
    pub fn nearest(&self, query: &Query, count: usize) -> Result<Vec<Choice>, QueryError> {
        let mut scratch = Scratch::default();
        self.target(Some(query), &mut scratch.target)?;
        self.rank(&scratch.target, count, &mut scratch.ranked);
        Ok(scratch.ranked.iter().map(Ranked::choice).collect())
    }

    /// `query` in the index's units, into `target`; no query is the mean shape without colours.
    fn target(&self, query: Option<&Query>, target: &mut Target) -> Result<(), QueryError> {
        target.shape.clear();
        let Some(query) = query else {
            target.shape.resize(self.components, 0.0);
            (target.skin, target.hair) = (None, None);
            return Ok(());
        };
        if query.coefficients.len() != self.components {
            return Err(QueryError::Length { expected: self.components, found: query.coefficients.len() });
        }
        target.shape.extend(query.coefficients.iter().zip(&self.inverse_sd).map(|(c, inverse)| c * inverse));
        if let Some(bad) = target.shape.iter().position(|c| !c.is_finite()) {
            return Err(QueryError::NotFinite(bad));
        }
        let colour = |hint: Option<[f32; 3]>, name| match hint {
            Some(rgb) if rgb.iter().any(|v| !v.is_finite()) => Err(QueryError::HintNotFinite(name)),
            hint => Ok(hint.map(|rgb| lab(rgb).map(|v| v / DELTA_E_PER_SD))),
        };
        target.skin = colour(query.hints.skin, "skin")?;
        target.hair = colour(query.hints.hair, "hair")?;
        Ok(())
    }

    fn squared_distance(&self, target: &Target, face: usize) -> f32 {
        let row = &self.scaled[face * self.components..(face + 1) * self.components];
        let mut sum: f32 = row.iter().zip(&target.shape).map(|(f, q)| (f - q) * (f - q)).sum();
        let lab = &self.labs[face];
        let squared = |a: &[f32], b: [f32; 3]| a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f32>();
        if let Some(skin) = target.skin {
            sum += squared(&lab[..3], skin);
        }
        if let Some(hair) = target.hair {
            sum += squared(&lab[3..], hair);
        }
        sum
    }

    /// The `count` nearest faces to `target` into `ranked`, nearest first (ties: lower face
    /// first). Partial selection: linear in the faces, then a sort of `count`.
    fn rank(&self, target: &Target, count: usize, ranked: &mut Vec<Ranked>) {
        ranked.clear();
        ranked.extend((0..self.face_count()).map(|face| Ranked {
            distance: self.squared_distance(target, face),
            face: face as u32,
        }));
        let count = count.min(ranked.len());
        if count == 0 {
            ranked.clear();
            return;
        }
        if count < ranked.len() {
            ranked.select_nth_unstable_by(count - 1, Ranked::order);
            ranked.truncate(count);
        }
        ranked.sort_unstable_by(Ranked::order);
        for r in ranked.iter_mut() {
            r.distance = r.distance.sqrt();
        }
    }
}

/// A query in the index's units.
#[derive(Clone, Debug, Default)]
struct Target {
    shape: Vec<f32>,
    skin: Option<[f32; 3]>,
    hair: Option<[f32; 3]>,
}

#[derive(Clone, Copy, Debug)]
struct Ranked {
    distance: f32,
    face: u32,
}

impl Ranked {
    fn order(a: &Ranked, b: &Ranked) -> std::cmp::Ordering {
        a.distance.total_cmp(&b.distance).then(a.face.cmp(&b.face))
    }

    fn choice(&self) -> Choice {
        Choice { face: self.face as usize, distance: self.distance }
    }
}

/// Buffers reused from one choice to the next, so a choice allocates (almost) nothing.
#[derive(Clone, Debug, Default)]
struct Scratch {
    target: Target,
    ranked: Vec<Ranked>,
}

/// One variation slot's state: its seed and the face it shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Slot {
    seed: u64,
    current: Option<usize>,
    pinned: bool,
}

impl Slot {
    fn new(seed: u64) -> Slot {
        Slot { seed, current: None, pinned: false }
    }
}

/// Chooses a face per query for one seed, keeping the face it chose while it stays good enough
/// (see the module's doc).
#[derive(Clone, Debug)]
pub struct Retriever {
    slot: [Slot; 1],
    scratch: Scratch,
}

impl Retriever {
    pub fn new(seed: u64) -> Retriever {
        Retriever { slot: [Slot::new(seed)], scratch: Scratch::default() }
    }

    pub fn seed(&self) -> u64 {
        self.slot[0].seed
    }

    /// The face for `query`. `None` (no face in the drawing yet, or the mesh network gave up)
    /// keeps the current face; with none yet, the seed picks among the [`NEAREST`] faces
    /// nearest to the mean shape. A pinned face is kept whatever the query. A current face the
    /// index does not have (a smaller bank loaded since) is forgotten, pinned or not.
    pub fn choose(&mut self, index: &FaceIndex, query: Option<&Query>) -> Result<Choice, QueryError> {
        let mut choices = [None];
        choose_slots(&mut self.slot, index, query, &mut self.scratch, &mut choices)?;
        Ok(choices[0].expect("every slot gets a face"))
    }

    /// The face last chosen (or pinned).
    pub fn current(&self) -> Option<usize> {
        self.slot[0].current
    }

    /// Shows `face` from now on, whatever the queries, until [`Retriever::unpin`].
    pub fn pin(&mut self, face: usize) {
        self.slot[0] = Slot { current: Some(face), pinned: true, ..self.slot[0] };
    }

    /// Lets the queries choose again, starting from the pinned face.
    pub fn unpin(&mut self) {
        self.slot[0].pinned = false;
    }

    pub fn is_pinned(&self) -> bool {
        self.slot[0].pinned
    }

    /// Forgets the face (a new drawing): the next choice starts afresh.
    pub fn reset(&mut self) {
        self.slot[0] = Slot::new(self.slot[0].seed);
    }
}

/// One [`Retriever`] per seed whose faces are all different (as long as the index has at least
/// as many faces as there are seeds): the variation strip. Each slot keeps its face by the rule
/// of a lone retriever, measured against the faces no other slot shows; a slot that needs a new
/// face takes its rendezvous pick among the good faces that no other slot shows.
#[derive(Clone, Debug)]
pub struct Retrievers {
    slots: Vec<Slot>,
    scratch: Scratch,
    choices: Vec<Option<Choice>>,
}

impl Retrievers {
    pub fn new(seeds: &[u64]) -> Retrievers {
        Retrievers {
            slots: seeds.iter().map(|&seed| Slot::new(seed)).collect(),
            scratch: Scratch::default(),
            choices: Vec::with_capacity(seeds.len()),
        }
    }

    pub fn seeds(&self) -> impl Iterator<Item = u64> + '_ {
        self.slots.iter().map(|slot| slot.seed)
    }

    /// A face per slot, in the order of the seeds (see [`Retriever::choose`]).
    pub fn choose(&mut self, index: &FaceIndex, query: Option<&Query>) -> Result<Vec<Choice>, QueryError> {
        self.choices.clear();
        self.choices.resize(self.slots.len(), None);
        choose_slots(&mut self.slots, index, query, &mut self.scratch, &mut self.choices)?;
        Ok(self.choices.iter().map(|c| c.expect("every slot gets a face")).collect())
    }

    /// The face each slot last chose (or was pinned to).
    pub fn current(&self) -> Vec<Option<usize>> {
        self.slots.iter().map(|slot| slot.current).collect()
    }

    /// Slot `slot` shows `face` until unpinned; a slot showing it now moves at the next choice.
    ///
    /// # Panics
    /// If there is no such slot.
    pub fn pin(&mut self, slot: usize, face: usize) {
        self.slots[slot] = Slot { current: Some(face), pinned: true, ..self.slots[slot] };
    }

    /// Lets the queries choose slot `slot`'s face again, starting from the pinned face.
    ///
    /// # Panics
    /// If there is no such slot.
    pub fn unpin(&mut self, slot: usize) {
        self.slots[slot].pinned = false;
    }

    /// # Panics
    /// If there is no such slot.
    pub fn is_pinned(&self, slot: usize) -> bool {
        self.slots[slot].pinned
    }

    /// Forgets every slot's face and pin.
    pub fn reset(&mut self) {
        for slot in &mut self.slots {
            *slot = Slot::new(slot.seed);
        }
    }
}

/// The one choosing rule, for any number of slots: pinned slots keep their faces; then every
/// other slot keeps its face if it is still good enough and no earlier slot shows it; then the
/// slots left pick, in order, among the faces not shown. `choices` is one `None` per slot.
fn choose_slots(
    slots: &mut [Slot],
    index: &FaceIndex,
    query: Option<&Query>,
    scratch: &mut Scratch,
    choices: &mut [Option<Choice>],
) -> Result<(), QueryError> {
    index.target(query, &mut scratch.target)?;
    for slot in slots.iter_mut() {
        if slot.current.is_some_and(|face| face >= index.face_count()) {
            *slot = Slot::new(slot.seed);
        }
    }
    let target = &scratch.target;
    let measured = |face: usize| Choice { face, distance: index.squared_distance(target, face).sqrt() };
    let shown = |choices: &[Option<Choice>], face: usize| choices.iter().flatten().any(|c| c.face == face);

    for (slot, choice) in slots.iter().zip(choices.iter_mut()) {
        if let (true, Some(face)) = (slot.pinned, slot.current) {
            *choice = Some(measured(face));
        }
    }
    if choices.iter().all(Option::is_some) {
        return Ok(());
    }
    // Enough faces that every slot finds NEAREST faces no other slot shows (when the index has
    // them), so `best` and the good set below never run out.
    index.rank(target, NEAREST + slots.len(), &mut scratch.ranked);
    let ranked = &scratch.ranked;
    for i in 0..slots.len() {
        let Some(face) = slots[i].current else { continue };
        if slots[i].pinned || shown(choices, face) {
            continue;
        }
        let kept = measured(face);
        // Nothing to compare with (no query): keep the face.
        let keep = query.is_none() || {
            // The nearest face that no other slot shows (or has shown until now).
            let elsewhere = |f: usize| {
                shown(choices, f) || slots.iter().enumerate().any(|(j, slot)| j != i && slot.current == Some(f))
            };
            let best = ranked.iter().find(|r| !elsewhere(r.face as usize)).map_or(kept.distance, |r| r.distance);
            kept.distance <= best * (1.0 + EXIT_MARGIN) + EXIT_SLACK
        };
        if keep {
            choices[i] = Some(kept);
        }
    }

    // From no query, the seeds pick among all the NEAREST faces nearest to the mean shape.
    let margin = if query.is_some() { ENTER_MARGIN } else { f32::INFINITY };
    for i in 0..slots.len() {
        if choices[i].is_some() {
            continue;
        }
        let seed = slots[i].seed;
        // With fewer faces than slots every face is shown: then a face is shown twice.
        let pick = pick(seed, ranked, margin, |face| shown(choices, face))
            .or_else(|| pick(seed, ranked, margin, |_| false))
            .expect("a face index is never empty");
        slots[i].current = Some(pick.face);
        choices[i] = Some(pick);
    }
    Ok(())
}

/// The seed's rendezvous pick among the good set: the [`NEAREST`] first faces of `ranked`
/// (nearest first) that are not `taken`, those within `best * (1 + margin)` of the nearest of them.
fn pick(seed: u64, ranked: &[Ranked], margin: f32, taken: impl Fn(usize) -> bool) -> Option<Choice> {
    let mut free = ranked.iter().filter(|r| !taken(r.face as usize)).take(NEAREST).peekable();
    let limit = free.peek()?.distance * (1.0 + margin);
    free.filter(|r| r.distance <= limit).max_by_key(|r| rendezvous_weight(seed, r.face)).map(Ranked::choice)
}

/// The weight of `face` for `seed`: a hash of both (splitmix64's finaliser, twice).
fn rendezvous_weight(seed: u64, face: u32) -> u64 {
    mix(mix(seed ^ 0x5eed_5eed_5eed_5eed) ^ u64::from(face))
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests;
