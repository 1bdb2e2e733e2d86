"""Local fakes of outside services for the tests (the fake Flutterwave itself is in
portal/devtools/, so that `make run` can use it too)."""
