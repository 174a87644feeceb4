//! Force-directed layout.
