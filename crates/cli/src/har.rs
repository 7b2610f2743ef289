//! HAR input for `explain --har` (being written).

/// Converts HAR text into an explain input.
pub fn har_to_input(
    _text: &str,
    _origin: Option<&str>,
) -> Result<corsproof_spec::case::Input, std::io::Error> {
    Err(std::io::Error::other(
        "HAR input is not available in this build",
    ))
}
