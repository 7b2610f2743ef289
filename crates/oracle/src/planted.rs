//! A deliberate defect of the oracle, for the test that shows `--confirm` catches the
//! oracle's mistakes in real browsers: with the `planted-defect` feature compiled in and
//! `CORSPROOF_PLANTED_DEFECT=1` in the environment, the CORS check skips R35 (a credentialed
//! read is granted without `Access-Control-Allow-Credentials: true`). Without the variable
//! the oracle is unchanged, so a build that unifies the feature (the workspace's tests) is
//! not affected.

use std::sync::OnceLock;

/// Whether the planted defect is switched on (`CORSPROOF_PLANTED_DEFECT=1`), read once.
pub fn active() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("CORSPROOF_PLANTED_DEFECT").is_some_and(|v| v == "1"))
}
