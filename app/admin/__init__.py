"""Admin pages: users, deal teams, the audit log."""
