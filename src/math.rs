//! One implementation of the elementary functions on every target, so that a replication
//! gives the same bits natively and in WebAssembly.
//!
//! `f64::exp`, `ln`, `powf` and the rest call the platform's C math library: glibc on
//! Linux, a port of musl's in WebAssembly. Both are accurate to within an ulp, but not
//! always the same ulp, and one ulp in a service time moves every later event a little, so
//! the time averages of a run in the browser would differ from the CLI's in their last
//! digits. This module defines the C symbols themselves (`exp`, `log`, `pow`, …) with the
//! `libm` crate (a Rust port of musl's), so every call of these functions in the program,
//! from oversim, `rand_distr` or `statrs`, runs the same code on every target. A definition
//! in the program takes precedence over the shared C library's, and over the weak ones of
//! Rust's `compiler_builtins` in WebAssembly.

macro_rules! portable {
    ($($name:ident($($arg:ident),+)),* $(,)?) => {
        $(
            #[no_mangle]
            #[doc = concat!("The C `", stringify!($name), "`, from the `libm` crate.")]
            pub extern "C" fn $name($($arg: f64),+) -> f64 {
                libm::$name($($arg),+)
            }
        )*
    };
}

portable!(
    exp(x),
    exp2(x),
    expm1(x),
    log(x),
    log2(x),
    log10(x),
    log1p(x),
    pow(x, y),
    sin(x),
    cos(x),
    tan(x),
    asin(x),
    acos(x),
    atan(x),
    atan2(y, x),
    sinh(x),
    cosh(x),
    tanh(x),
    cbrt(x),
    hypot(x, y),
);

/// Keeps this module's object file in every program that runs a replication (a linker
/// takes an archive member only for a symbol it needs): the engine calls it once.
#[inline(never)]
pub fn linked() -> f64 {
    exp(0.0)
}
