//! When the leak began: the deployment or restart after which lifetimes started growing.
