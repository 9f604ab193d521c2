//! `moa-testbed`: runs the local open banking center.
fn main() {}
