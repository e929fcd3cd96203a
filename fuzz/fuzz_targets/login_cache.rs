//! Fuzzes `credd::invariants::login_cache`; see that function for the properties checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| credd::invariants::login_cache(data));
