"""Builders shared by the tests: readable inputs in, the real contracts out."""
