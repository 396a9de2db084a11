//! Detection: the first alert that fired for the service and its rule, or when a
//! `leakcollect rules` alert would have fired.

use super::Analysed;
use crate::evidence::Detection;

/// Placeholder until detection lands (issue 17).
pub fn detection(_analysed: &Analysed) -> Option<Detection> {
    None
}
