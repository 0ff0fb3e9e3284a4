"""One module per claim family; each defines ``FAMILY`` pairing ``theorems`` with ``numerics``."""
