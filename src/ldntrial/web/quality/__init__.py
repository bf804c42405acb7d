"""Data quality: queries, source data verification and the investigator's casebook sign-off."""
