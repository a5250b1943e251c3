//! Fuzzes the msgpack value decoder: arbitrary bytes against a few schema types (a resource-like
//! object, bare `dynamic`, collections). Decoding may fail but must never panic, and whatever
//! decodes must encode and decode back to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The same function the provider's smoke test (framework::value::msgpack) runs over the seeds.
    mesh_provider::framework::value::msgpack::fuzz_decode_one(data);
});
