"""Local fake servers that speak the real protocols of outside services (for tests)."""
