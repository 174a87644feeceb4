//! `secviz demo` (filled in below).
