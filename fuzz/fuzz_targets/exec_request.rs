//! Fuzzes `credd::invariants::exec_request`; see that function for the properties checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| credd::invariants::exec_request(data));
