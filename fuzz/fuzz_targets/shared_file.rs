//! Fuzzes `credd::invariants::shared_file`; see that function for the properties checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| credd::invariants::shared_file(data));
