"""Verification codes and links found in what arrived, handed out once each."""
