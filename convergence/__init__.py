"""Convergence: which records of different networks describe one physical place."""
