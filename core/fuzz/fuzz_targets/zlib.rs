//! zlib streams (a status list's `lst`): any input is read without a panic
//! within the limit, and whatever is read compresses back to a stream that
//! reads to the same bytes.
#![no_main]

use captoken_core::zlib;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(out) = zlib::decompress(data, 1 << 20) {
        let again = zlib::compress(&out);
        assert_eq!(
            zlib::decompress(&again, out.len()).expect("own stream reads"),
            out
        );
    }
    // And the writer's own stream of the input reads back exactly.
    let packed = zlib::compress(data);
    assert_eq!(
        zlib::decompress(&packed, data.len()).expect("own stream reads"),
        data
    );
});
