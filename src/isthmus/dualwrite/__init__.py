"""Dual-write: the same customer, address and credit limit on both sides, in the same transaction."""
