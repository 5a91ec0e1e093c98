"""Exercise 4: the methodology of identifying induction heads (checks used by its tests)."""
