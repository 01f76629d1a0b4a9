"""Simulated short-drama traffic for the demo and the tests."""
