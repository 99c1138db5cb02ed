//! One implementation of the elementary functions on every target, so that a replication
//! gives the same bits natively and in WebAssembly.
//!
//! `f64::exp`, `ln`, `powf` and the rest call the platform's C math library: glibc on
//! Linux, a port of musl's in WebAssembly. Both are accurate to within an ulp, but not
//! always the same ulp, and one ulp in a service time moves every later event a little, so
//! the time averages of a run in the browser would differ from the CLI's in their last
//! digits. oversim's own code therefore calls the `libm` crate (a Rust port of musl's)
//! directly (clippy.toml refuses `f64::exp` and its kin).
//!
//! The draws of `rand_distr` and the quantiles of `statrs` call the C functions, out of
//! oversim's reach. With the feature `portable-math` (part of `cli`, and given to the
//! WebAssembly build) this module defines the C symbols themselves (`exp`, `log`, `pow`, …)
//! with `libm`, so those calls too run the same code on every target: a definition in the
//! program takes precedence over the shared C library's, and over the weak ones of Rust's
//! `compiler_builtins` in WebAssembly. A program that embeds the core (a Python extension,
//! a server) builds it without the feature and keeps its own C library: the symbols would
//! replace that library's functions for the whole process. Its draws then agree with the
//! command line's to within an ulp, not bit for bit, unless it takes `wrapped-math`: the
//! Python extension does, and is linked so that its own calls of `exp` reach `__wrap_exp`
//! (python/build.rs), the same bits as the command line's without touching the process's.

/// Calls `$m!` with every C math function the draws may call, with its arguments: the one
/// list of them (python/build.rs wraps the same names; its test checks that none is left
/// for the C library).
#[cfg(any(feature = "portable-math", feature = "wrapped-math"))]
macro_rules! c_math {
    ($m:ident) => {
        $m!(
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
    };
}

#[cfg(feature = "portable-math")]
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

#[cfg(feature = "portable-math")]
c_math!(portable);

/// The C functions under the names `--wrap` gives them (`__wrap_exp` for `exp`), so that a
/// shared library linked with `-Wl,--wrap=exp,…` runs `libm`'s code in its own calls and
/// leaves the process's C library alone (feature `wrapped-math`).
#[cfg(feature = "wrapped-math")]
pub mod wrapped {
    macro_rules! wrapped {
        ($($name:ident($($arg:ident),+)),* $(,)?) => {
            $(
                #[export_name = concat!("__wrap_", stringify!($name))]
                #[doc = concat!("The C `", stringify!($name), "` for a library linked with `--wrap`, from the `libm` crate.")]
                pub extern "C" fn $name($($arg: f64),+) -> f64 {
                    libm::$name($($arg),+)
                }
            )*
        };
    }
    c_math!(wrapped);
}

/// Φ⁻¹(p), the standard normal quantile, for p in (0, 1).
pub fn normal_quantile(p: f64) -> f64 {
    -std::f64::consts::SQRT_2 * statrs::function::erf::erfc_inv(2.0 * p)
}

/// Φ(x), the standard normal distribution function.
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// Keeps this module's object file in every program that runs a replication (a linker
/// takes an archive member only for a symbol it needs): the engine calls it once.
#[inline(never)]
pub fn linked() -> f64 {
    #[cfg(feature = "portable-math")]
    return exp(0.0);
    #[cfg(all(feature = "wrapped-math", not(feature = "portable-math")))]
    return wrapped::exp(0.0);
    #[cfg(not(any(feature = "portable-math", feature = "wrapped-math")))]
    1.0
}
