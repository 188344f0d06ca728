"""Where posts come from: one Source per kind of site."""
