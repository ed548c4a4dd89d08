"""Consent and privacy: consent per person and purpose, suppression lists, exports that honour
them, erasure of a person everywhere marketops keeps data (with a receipt), a person's data export
and retention rules applied at each run.
"""
