"""Accounts, sessions, API tokens, roles and deal teams."""
