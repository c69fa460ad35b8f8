//! The shrunk sequences of real failures the suite found, kept as fixed cases on each backend.
