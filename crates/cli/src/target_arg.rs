//! The command-line form of a registry target (`corsproof_targets::registry::Target`): one
//! list of names for `emit`, `run`, `lint --target` and `matrix --targets`.

use clap::builder::PossibleValue;
use corsproof_targets::registry::Target;

/// A target named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetArg(pub Target);

const ARGS: [TargetArg; Target::ALL.len()] = {
    let mut out = [TargetArg(Target::Tower); Target::ALL.len()];
    let mut i = 0;
    while i < out.len() {
        out[i] = TargetArg(Target::ALL[i]);
        i += 1;
    }
    out
};

impl clap::ValueEnum for TargetArg {
    fn value_variants<'a>() -> &'a [Self] {
        &ARGS
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.0.name()).help(self.0.library()))
    }
}
