//! The fuzz targets' properties (`credd::invariants`) on stable: every seed in `fuzz/seeds/`, and
//! random and mutated inputs from proptest. cargo-fuzz explores far more (`fuzz/README.md`); this
//! keeps the properties checked in every CI run, with or without nightly.

use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

type Target = fn(&[u8]);

const TARGETS: &[(&str, Target)] = &[
    ("shared_file", credd::invariants::shared_file),
    ("config_toml", credd::invariants::config),
    ("env_file", credd::invariants::env_file),
    ("control_frame", credd::invariants::control_frame),
    ("sso_cache", credd::invariants::sso_cache),
    ("login_cache", credd::invariants::login_cache),
    ("exec_request", credd::invariants::exec_request),
];

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds").join(target);
    let seeds: Vec<Vec<u8>> =
        std::fs::read_dir(&dir).unwrap().map(|e| std::fs::read(e.unwrap().path()).unwrap()).collect();
    assert!(!seeds.is_empty(), "no seeds in {}", dir.display());
    seeds
}

#[test]
fn every_seed_holds_every_property() {
    for (name, target) in TARGETS {
        for seed in seeds(name) {
            target(&seed);
        }
    }
}

/// Seeds with bytes flipped, cut or spliced: the cheap end of what a fuzzer does.
#[test]
fn mutated_seeds_hold_every_property() {
    for (name, target) in TARGETS {
        let seeds = seeds(name);
        let mut runner = TestRunner::new(Config { cases: 1500, ..Config::default() });
        let strategy = (
            prop::sample::select(seeds),
            prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..8),
        );
        runner
            .run(&strategy, |(mut data, muts)| {
                for (at, byte, op) in muts {
                    if data.is_empty() {
                        data.push(byte);
                        continue;
                    }
                    let i = at.index(data.len());
                    match op {
                        0 => data[i] = byte,
                        1 => data.insert(i, byte),
                        2 => {
                            data.remove(i);
                        }
                        _ => data.truncate(i),
                    }
                }
                target(&data);
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}
