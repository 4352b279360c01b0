//! Mutation fuzzing of the importers, for a bounded time: every fixture log of a format,
//! mutated at random (bytes flipped, lines cut, duplicated, shuffled or replaced by junk), must
//! import or fail with an error, never panic. `CORDON_FUZZ_SECONDS` sets the time per format
//! (CI runs longer than the default). The generator is seeded and the seed printed, so a
//! failure can be replayed with `CORDON_FUZZ_SEED`.

use std::path::Path;
use std::time::{Duration, Instant};

use cordon_core::import::{import, Format};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const JUNK: &[&str] = &[
    "",
    "(",
    ")",
    " = ",
    "<unfinished ...>",
    "<... resumed>",
    "\"",
    "\\x00",
    "-1 ENOENT",
    "+++ exited with",
    "--- SIG",
    "NAMI",
    "CALL",
    "RET",
    "0x",
    "[pid 1]",
    "99999999999999999999",
    "\u{feff}",
    "é",
];

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for _ in 0..1 + rng.below(6) {
        if lines.is_empty() {
            lines.push(String::new());
        }
        let i = rng.below(lines.len());
        match rng.below(7) {
            0 => {
                // Flip a byte, keeping the text UTF-8.
                let mut b = lines[i].clone().into_bytes();
                if !b.is_empty() {
                    let j = rng.below(b.len());
                    const BYTES: &[u8] = b" (),=\"<>[]0123456789abcxyz/|\\";
                    b[j] = BYTES[rng.below(BYTES.len())];
                }
                lines[i] = String::from_utf8_lossy(&b).into_owned();
            }
            1 => {
                let cut = rng.below(lines[i].len() + 1);
                let cut = (0..=cut)
                    .rev()
                    .find(|c| lines[i].is_char_boundary(*c))
                    .unwrap_or(0);
                lines[i].truncate(cut);
            }
            2 => {
                let l = lines[i].clone();
                lines.insert(rng.below(lines.len() + 1), l);
            }
            3 => {
                let j = rng.below(lines.len());
                lines.swap(i, j);
            }
            4 => {
                lines.remove(i);
            }
            5 => {
                let junk = JUNK[rng.below(JUNK.len())];
                let at = rng.below(lines[i].len() + 1);
                let at = (0..=at)
                    .rev()
                    .find(|c| lines[i].is_char_boundary(*c))
                    .unwrap_or(0);
                lines[i].insert_str(at, junk);
            }
            _ => {
                let n = rng.below(40);
                lines[i] = (0..n).map(|_| (rng.below(95) as u8 + 32) as char).collect();
            }
        }
    }
    let mut out = lines.join("\n");
    if rng.below(2) == 0 {
        out.push('\n');
    }
    out
}

fn fixtures(prefix: &str) -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import");
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
                .filter_map(|e| {
                    let text = std::fs::read_to_string(e.path()).ok()?;
                    Some((e.file_name().to_string_lossy().into_owned(), text))
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn fuzz(format: Format, prefix: &str) {
    let corpus = fixtures(prefix);
    let seconds: u64 = std::env::var("CORDON_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    let seed: u64 = std::env::var("CORDON_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
                | 1
        });
    eprintln!(
        "fuzzing {} for {seconds} s with CORDON_FUZZ_SEED={seed}",
        format.name()
    );
    let mut rng = Rng(seed);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut runs = 0u64;
    // Junk alone, then mutations of the fixtures (if the format has any yet).
    let junk: String = (0..4096).map(|_| (rng.below(256) as u8) as char).collect();
    let _ = import(format, &[("junk".into(), junk)]);
    while Instant::now() < deadline && !corpus.is_empty() {
        let (name, text) = &corpus[rng.below(corpus.len())];
        let mutated = mutate(&mut rng, text);
        let _ = import(format, &[(name.clone(), mutated)]);
        runs += 1;
    }
    eprintln!("{runs} mutated logs imported without a panic");
}

#[test]
fn fuzz_strace() {
    fuzz(Format::Strace, "strace");
}

#[test]
fn fuzz_fs_usage() {
    fuzz(Format::FsUsage, "fs_usage");
}

#[test]
fn fuzz_dtruss() {
    fuzz(Format::Dtruss, "dtruss");
}

#[test]
fn fuzz_kdump() {
    fuzz(Format::Kdump, "kdump");
}
