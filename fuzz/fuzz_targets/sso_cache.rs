//! Fuzzes `credd::invariants::sso_cache`; see that function for the properties checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| credd::invariants::sso_cache(data));
