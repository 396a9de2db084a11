//! Deployments in the window and which of them was the fix (`--fix-deployed auto`).
