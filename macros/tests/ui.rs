//! Compile-fail and compile-pass tests of `#[model]` and the site macros.
//!
//! Refresh the expected output with
//! `TRYBUILD=overwrite cargo test -p tilde-macros --test ui` and review the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui-pass/*.rs");
}
