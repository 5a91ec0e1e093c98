"""Exercise 8: the bug in the seed's ablation snippet (checks used by its tests)."""
