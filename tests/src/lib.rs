//! Cross-host tests live in `tests/`.
