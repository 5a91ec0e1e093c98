"""Exercise 2: induction heads and architecture design (checks used by its tests)."""
