//! Built-in analyses (filled in with the analyses).
