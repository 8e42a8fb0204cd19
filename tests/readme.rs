//! One source for the performance figures: every figure the README quotes about speed and memory
//! (its opening paragraph and its "Performance" section) must be one of `BENCHMARKS.md`'s results,
//! as written there or rounded (6.53 ms may be quoted as 6.5 or 7 ms, 178 ms as 0.18 s).

use std::path::Path;

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The text from the line `heading` to the next heading of the same or a higher level.
fn section<'a>(markdown: &'a str, heading: &str) -> &'a str {
    let start = markdown
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("no `{heading}` section"))
        + 1;
    let level = heading.split(' ').next().unwrap();
    let end = markdown[start + heading.len()..]
        .match_indices("\n#")
        .map(|(at, _)| start + heading.len() + at + 1)
        .find(|&at| {
            let hashes = markdown[at..].chars().take_while(|&c| c == '#').count();
            hashes <= level.len() && markdown[at + hashes..].starts_with(' ')
        })
        .unwrap_or(markdown.len());
    &markdown[start..end]
}

/// A measured figure as written: `6.5 ms`, `0.18 s`, `161 MB`, `11.6x`, `20 %`.
#[derive(Clone, Debug)]
struct Figure {
    text: String,
    /// In the unit's base: milliseconds, megabytes, times or percent.
    value: f64,
    /// How many of the base unit one written unit is (1000 for seconds).
    scale: f64,
    dimension: &'static str,
    decimals: i32,
}

impl Figure {
    /// `other` quoted in this figure's unit and precision gives this figure.
    fn quotes(&self, other: &Figure) -> bool {
        let factor = 10f64.powi(self.decimals);
        let rounded = (other.value / self.scale * factor).round() / factor;
        self.dimension == other.dimension && (rounded - self.value / self.scale).abs() < 1e-9
    }
}

/// The unit a word names: its dimension and its size in that dimension's base unit.
fn unit(word: &str) -> Option<(&'static str, f64)> {
    match word {
        "ms" => Some(("time", 1.0)),
        "s" => Some(("time", 1000.0)),
        "MB" => Some(("memory", 1.0)),
        "GB" => Some(("memory", 1000.0)),
        "%" => Some(("percent", 1.0)),
        _ => None,
    }
}

/// Every figure in `text`. A number without a unit of its own takes the unit of the number after
/// `/`, `-`, `to` or `and` (`12.0 / 19.5 ms`, `6.5 to 7.8 ms`); one with no unit at all (`2
/// threads`, `128 x 128`, `p95`) is not a figure.
fn figures(text: &str) -> Vec<Figure> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut pending: Vec<(usize, usize)> = Vec::new(); // numbers waiting for a unit
    let mut at = 0;
    while at < bytes.len() {
        let starts_number = bytes[at].is_ascii_digit()
            && (at == 0 || !(bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'.'));
        if !starts_number {
            at += 1;
            continue;
        }
        let start = at;
        while at < bytes.len() && (bytes[at].is_ascii_digit() || bytes[at] == b'.') {
            at += 1;
        }
        let number = text[start..at].trim_end_matches('.');
        at = start + number.len();
        pending.push((start, at));
        // `11.6x`: the ratio sign sticks to its number.
        if bytes.get(at) == Some(&b'x') && !bytes.get(at + 1).is_some_and(u8::is_ascii_alphanumeric)
        {
            flush(text, &mut pending, ("ratio", 1.0), &mut found);
            at += 1;
            continue;
        }
        let rest = text[at..].trim_start_matches(' ');
        let word: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphabetic() || *c == '%')
            .collect();
        if let Some(unit) = unit(&word) {
            flush(text, &mut pending, unit, &mut found);
        } else {
            let joined = ["/", "-", "to ", "and "]
                .iter()
                .any(|joint| rest.starts_with(joint) && joins_a_number(&rest[joint.len()..]));
            if !joined {
                pending.clear();
            }
        }
    }
    found
}

fn joins_a_number(rest: &str) -> bool {
    rest.trim_start_matches(' ')
        .starts_with(|c: char| c.is_ascii_digit())
}

fn flush(
    text: &str,
    pending: &mut Vec<(usize, usize)>,
    (dimension, scale): (&'static str, f64),
    found: &mut Vec<Figure>,
) {
    for (start, end) in pending.drain(..) {
        let number = &text[start..end];
        let decimals = number.split_once('.').map_or(0, |(_, d)| d.len()) as i32;
        found.push(Figure {
            text: number.to_owned(),
            value: number.parse::<f64>().expect("digits and a point") * scale,
            scale,
            dimension,
            decimals,
        });
    }
}

#[test]
fn the_figure_reader_finds_figures_and_their_units() {
    let read: Vec<(String, &str, f64)> =
        figures("6.53 ms (p95 7.17), 12.0 / 19.5 ms, 0.18 s, 161 MB, 11.6x, 2 threads, 128 x 128, 6.5 to 7.8 ms")
            .into_iter()
            .map(|f| (f.text, f.dimension, f.value))
            .collect();
    let expected: Vec<(String, &str, f64)> = [
        ("6.53", "time", 6.53),
        ("12.0", "time", 12.0),
        ("19.5", "time", 19.5),
        ("0.18", "time", 180.0),
        ("161", "memory", 161.0),
        ("11.6", "ratio", 11.6),
        ("6.5", "time", 6.5),
        ("7.8", "time", 7.8),
    ]
    .into_iter()
    .map(|(t, d, v)| (t.to_owned(), d, v))
    .collect();
    assert_eq!(read, expected);
    let quoted = |readme: &str, bench: &str| figures(readme)[0].quotes(&figures(bench)[0]);
    assert!(quoted("7 ms", "6.53 ms") && quoted("20 ms", "19.5 ms") && quoted("0.18 s", "178 ms"));
    assert!(
        !quoted("15 ms", "6.53 ms") && !quoted("6.5 ms", "6.53 MB") && !quoted("6.6 ms", "6.53 ms")
    );
}

#[test]
fn every_performance_figure_in_the_readme_comes_from_benchmarks_md() {
    let readme = read("README.md");
    let benchmarks = read("BENCHMARKS.md");
    let results = section(&benchmarks, "## Results");
    // The summary table and the paragraph under it, not the detail tables that follow.
    let results = &results[..results.find("\n### ").unwrap_or(results.len())];
    let measured = figures(results);
    assert!(measured.len() >= 15, "the results table: {measured:?}");

    let opening = &readme[..readme.find("\n## ").expect("a first section")];
    let performance = section(&readme, "## Performance");
    for (part, text) in [("opening paragraph", opening), ("Performance", performance)] {
        let quoted = figures(text);
        assert!(!quoted.is_empty(), "the README's {part} quotes no figure");
        for figure in quoted {
            assert!(
                measured.iter().any(|m| figure.quotes(m)),
                "the README's {part} says {} {}, which is not among BENCHMARKS.md's results",
                figure.text,
                figure.dimension
            );
        }
    }
}
