"""Accounts: estate members and user management, own profile, sign-in sessions, guard devices."""
