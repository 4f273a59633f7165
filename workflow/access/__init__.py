"""Authentication and authorisation: tokens, single sign-on, roles and permissions."""
