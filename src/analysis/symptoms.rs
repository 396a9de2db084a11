//! The Initial Symptoms boxes, each ticked by a documented rule with its reason.
