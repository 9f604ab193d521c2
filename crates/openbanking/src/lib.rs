//! A typed client of the Korean Open Banking API v2.0 run by KFTC (금융결제원).
#![deny(missing_docs)]
