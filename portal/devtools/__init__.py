"""Development tools that never run in production: the fake Flutterwave of `make run` and
the tests (fake_flutterwave.py)."""
