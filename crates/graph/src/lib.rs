//! secviz-graph builds link graphs from rows under AfterGlow-compatible rules, lays them out and exports them.
