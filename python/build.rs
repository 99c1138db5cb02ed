//! Links the extension so that its own calls of the C math functions reach the `libm`
//! crate's code (`__wrap_exp` for `exp`, defined by oversim's feature `wrapped-math`): the
//! command line's bits, while the Python process keeps its C library. The names are those
//! of `c_math!` in src/math.rs; tests/test_oversim.py (test_the_extension_leaves_the_c_math_library_alone) checks that the extension leaves
//! none of them to the C library.

// A build script speaks to cargo on standard output: println! is its protocol.
#![allow(clippy::disallowed_macros)]

const C_MATH: &[&str] = &[
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "pow", "sin", "cos", "tan", "asin", "acos",
    "atan", "atan2", "sinh", "cosh", "tanh", "cbrt", "hypot",
];

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        for name in C_MATH {
            println!("cargo:rustc-link-arg-cdylib=-Wl,--wrap={name}");
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
