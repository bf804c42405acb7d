"""Staff accounts: the optional second factor (TOTP) and its enforcement."""
