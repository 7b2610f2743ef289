//! corsproof-spec (under construction)
