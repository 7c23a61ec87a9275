"""Sending: what may leave, and how it leaves.

guard      refuses a message that carries a code or link the project received (pure logic)
"""
