//! A local open banking center that speaks KFTC's Open Banking API v2.0 wire protocol.
#![deny(missing_docs)]
